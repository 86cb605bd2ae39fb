// What the tests use of ali-oss 6.23.0 beyond @types/ali-oss 6.23.3: the `sldEnable` option (path-style
// addressing), `processObjectSave`, `getObjectMeta` (lib/common/object/getObjectMeta.js), and the
// signed low-level `request` that the SDK's own methods are built on (lib/client.js), which the tests
// need for the style API (the client has no style methods).
import type OSS from "ali-oss";

export interface ClientOptions extends OSS.Options {
  /** Second-level-domain mode: the bucket goes into the path (`/<bucket>/<key>`), not the host. */
  sldEnable?: boolean;
}

/** urllib's response, as ali-oss hands it on in `res`. */
export interface RawResponse extends OSS.NormalSuccessResponse {
  data: Buffer;
  /** The URLs requested. */
  requestUrls: string[];
}

/** Parameters of `client.request` (lib/client.js, lib/common/utils/createRequest.js). */
export interface RequestParams {
  method: string;
  bucket?: string;
  object?: string;
  /** Signed sub-resources: added to the query and, for V1, to the canonical resource. */
  subres?: string | string[] | Record<string, string>;
  content?: string | Buffer;
  mime?: string;
  headers?: Record<string, string>;
  /** Statuses that are not an error; without it `request` throws for no HTTP status at all. */
  successStatuses?: number[];
  /** Parse the body as XML into `data`. */
  xmlResponse?: boolean;
}

export interface RequestResult {
  status: number;
  headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: parsed XML (with xmlResponse) or the body's bytes
  data: any;
  res: RawResponse;
}

export type Client = OSS & {
  readonly options: { readonly bucket: string | null };
  processObjectSave(
    sourceObject: string,
    targetObject: string,
    process: string,
    targetBucket?: string,
  ): Promise<{ res: RawResponse; status: number }>;
  request(params: RequestParams): Promise<RequestResult>;
  /** GetObjectMeta: `HEAD /<key>?objectMeta`, success only for 200. */
  getObjectMeta(
    name: string,
    options?: { headers?: Record<string, string> },
  ): Promise<{ status: number; res: RawResponse }>;
};

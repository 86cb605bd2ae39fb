// What the global setup (global-setup.ts) hands to the SDK tests through vitest's provide/inject.

export interface Credential {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
}

export interface SdkTestContext {
  /** `http://127.0.0.1:<port>`: the `wrangler dev` the global setup started. */
  readonly baseUrl: string;
  readonly port: number;
  /** The key pairs the server was started with, in order (a key rotation: both are valid). */
  readonly credentials: readonly Credential[];
  /** A JPEG loaded into both `demo` and `demo-private` before the server started. */
  readonly seeded: { readonly key: string; readonly width: number; readonly height: number };
}

declare module "vitest" {
  export interface ProvidedContext {
    sdk: SdkTestContext;
  }
}

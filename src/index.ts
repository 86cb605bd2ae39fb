import { type Context, Hono } from "hono";
import { authenticate, type Caller } from "./auth";
import { parseQuery, type QueryParam } from "./auth/canonical";
import { type Env, type ServiceConfig, serviceConfig } from "./config";
import { Deadline } from "./deadline";
import { OssError } from "./errors";
import { abortMultipartUpload } from "./http/abort-multipart-upload";
import { completeMultipartUpload } from "./http/complete-multipart-upload";
import { copyObject } from "./http/copy-object";
import { errorResponse } from "./http/error-response";
import { initiateMultipartUpload } from "./http/initiate-multipart-upload";
import { isListParameter, listObjects } from "./http/list-objects";
import { listParts } from "./http/list-parts";
import { serveObject, serveObjectMeta } from "./http/object";
import { deleteObject, putObject } from "./http/object-write";
import { processObject } from "./http/process-object";
import { processStringFor } from "./http/process-string";
import { serveProcessed } from "./http/processed";
import { type ObjectAddress, resolveAddress } from "./http/resolve";
import { styleApi } from "./http/styles-api";
import { uploadPart } from "./http/upload-part";
import { refuseUnimplementedWrite } from "./http/write-headers";
import { logEvent, loggablePath } from "./log";
import { playground } from "./playground";
import { parseProcess } from "./process/parse";

type AppEnv = { Bindings: Env; Variables: { requestId: string } };

const app = new Hono<AppEnv>();

/** OSS request ids: 24 upper-case hex digits. */
function newRequestId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0").toUpperCase()).join("");
}

/** Object sub-resources of OSS APIs this service does not implement (ACLs, tags, appends…). */
const UNIMPLEMENTED_SUB_RESOURCES = new Set([
  "acl",
  "tagging",
  "symlink",
  "append",
  "restore",
  "x-oss-async-process",
  "versions",
  "versionId",
  "cors",
  "lifecycle",
  "website",
  "referer",
  "logging",
]);

const sourceProtected = () =>
  new OssError(
    "AccessDenied",
    "Source image protection is on: anonymous requests may only use styles.",
    "0040-00000031",
  );

const requireSignature = (caller: Caller, what: string) => {
  if (!caller.accessKeyId) throw new OssError("AccessDenied", `${what} needs a signed request.`);
};

app.use(async (c, next) => {
  const requestId = newRequestId();
  c.set("requestId", requestId);
  const started = Date.now();
  await next();
  c.res.headers.set("x-oss-request-id", requestId);
  // Every answer, errors, 304s and HEADs included, carries the time as OSS's do (RFC 9110 §6.6.1):
  // the V2 Python SDK reads Date before it parses any error.
  c.res.headers.set("Date", new Date().toUTCString());
  c.res.headers.set("Server", "AliyunOSS");
  logEvent(c.res.status >= 500 ? "error" : "info", requestId, "request", {
    method: c.req.method,
    host: new URL(c.req.url).host,
    path: loggablePath(new URL(c.req.url)),
    status: c.res.status,
    ms: Date.now() - started,
    cache: c.res.headers.get("X-Cache") ?? undefined,
  });
});

// Off unless PLAYGROUND is "on"; then it answers /_playground before the OSS routes see the path.
app.all("/_playground/*", playground(app.fetch));

app.all("*", (c) => {
  const config = serviceConfig(c.env);
  return new Deadline(config.requestTimeoutMs).run((deadline) => handle(c, config, deadline));
});

async function handle(c: Context<AppEnv>, config: ServiceConfig, deadline: Deadline): Promise<Response> {
  const request = c.req.raw;
  const method = request.method;
  const url = new URL(request.url);
  const resolved = resolveAddress(url, config);
  // ali-oss's ImageClient sends bucket sub-resources as an object key: `/<bucket>/%3Fstyle%26...`.
  const [address, params]: [ObjectAddress, QueryParam[]] = resolved.key.startsWith("?")
    ? [{ bucket: resolved.bucket, key: "", pathKey: "" }, parseQuery(resolved.key.slice(1))]
    : [resolved, parseQuery(url.search.slice(1))];
  const { bucket } = address;
  const caller = await authenticate(
    { method, headers: request.headers, params, bucket: bucket.name, key: address.pathKey },
    config.accessKeys,
  );
  // Only reads take a `<key>!<style>` suffix as a style; a write addresses the object by its whole name.
  const reads = method === "GET" || method === "HEAD";
  const key = reads ? address.key : address.pathKey;

  const copySource = method === "PUT" ? request.headers.get("x-oss-copy-source") : null;
  if (method === "PUT" || method === "POST" || method === "DELETE") {
    refuseUnimplementedWrite(request.headers, copySource !== null);
  }

  if (key === "") {
    if (params.some((param) => param.key === "style")) {
      requireSignature(caller, "The style API");
      return styleApi(method, bucket, params, config.styles, request);
    }
    if (
      method === "GET" &&
      params.every((param) => isListParameter(param.key) || isSigningParameter(param.key))
    ) {
      // Access is checked before anything is read: a bucket's keys are listed for signed requests,
      // and anonymously only where the bucket opts in (public-read alone does not publish them).
      if (!caller.accessKeyId && !bucket.anonymousList) {
        throw new OssError("AccessDenied", "Listing the objects of this bucket needs a signed request.");
      }
      return listObjects(bucket, params);
    }
    requireSignature(caller, "A bucket-level request");
    throw new OssError(
      "NotImplemented",
      "Bucket-level operations other than ListObjects and the style API are not implemented.",
    );
  }
  const unimplemented = params.find((param) => UNIMPLEMENTED_SUB_RESOURCES.has(param.key));
  if (unimplemented) throw new OssError("NotImplemented", `The ${unimplemented.key} API is not implemented.`);
  const multipart = multipartOperation(method, params);
  if (multipart !== undefined) {
    requireSignature(caller, "Multipart upload");
    const state = config.objectState;
    const param = (name: string) => params.find((p) => p.key === name)?.value;
    switch (multipart) {
      case "initiate":
        return initiateMultipartUpload(bucket, state, key, request, params);
      case "upload-part":
        if (copySource !== null) throw new OssError("NotImplemented", "UploadPartCopy is not implemented.");
        return uploadPart(bucket, state, key, request, param("partNumber"), param("uploadId"));
      case "list-parts":
        return listParts(bucket, state, key, params);
      case "complete":
        return completeMultipartUpload(bucket, state, key, request, params);
      case "abort":
        return abortMultipartUpload(bucket, state, key, param("uploadId"));
    }
  }

  switch (method) {
    case "GET":
    case "HEAD": {
      if (!caller.accessKeyId && bucket.acl === "private") {
        throw new OssError("AccessDenied", "You have no right to access this object because of bucket acl.");
      }
      if (params.some((param) => param.key === "objectMeta")) {
        // The original's metadata: under source protection, not for anonymous requests, style or not.
        if (!caller.accessKeyId && bucket.sourceProtection) throw sourceProtected();
        return serveObjectMeta(bucket.store, key, method);
      }
      const process = await processStringFor(params, address, config);
      if (
        !caller.accessKeyId &&
        bucket.sourceProtection &&
        address.style === undefined &&
        !isStyleQuery(params)
      ) {
        throw sourceProtected();
      }
      if (process === undefined) return serveObject(bucket, config.objectState, key, request);
      return serveProcessed({
        bucket,
        key,
        process: parseProcess(process),
        request,
        memoryBudgetBytes: config.memoryBudgetBytes,
        deadline,
        fonts: config.fonts,
        waitUntil: (promise) => c.executionCtx.waitUntil(promise),
        warn: engineWarning(c),
      });
    }
    case "PUT":
      if (copySource !== null) {
        requireSignature(caller, "CopyObject");
        return copyObject(config, bucket, key, request);
      }
      requireSignature(caller, "PutObject");
      return putObject(bucket, config.objectState, key, request);
    case "DELETE":
      requireSignature(caller, "DeleteObject");
      return deleteObject(bucket, config.objectState, key);
    case "POST":
      if (!params.some((param) => param.key === "x-oss-process")) {
        throw new OssError("NotImplemented", "POST is implemented for ProcessObject (?x-oss-process) only.");
      }
      requireSignature(caller, "ProcessObject");
      return processObject(bucket, key, request, config, deadline, engineWarning(c));
    default:
      throw new OssError("MethodNotAllowed", `The method ${method} is not allowed here.`);
  }
}

/** The engine's warnings, logged under the request's id (the image itself is still served). */
function engineWarning(c: Context<AppEnv>): (message: string) => void {
  return (message) => logEvent("warn", c.get("requestId"), "engine-warning", { message });
}

/** The query parameters of signed URLs, V1 and V4: part of any request, never an API of their own. */
function isSigningParameter(name: string): boolean {
  return (
    name === "OSSAccessKeyId" ||
    name === "Expires" ||
    name === "Signature" ||
    name === "security-token" ||
    name.startsWith("x-oss-")
  );
}

type MultipartOperation = "initiate" | "upload-part" | "list-parts" | "complete" | "abort";

/**
 * Which multipart API a request is, by method and sub-resource; a multipart sub-resource with
 * another method names nothing OSS has (ListMultipartUploads is bucket-level, not implemented).
 */
function multipartOperation(method: string, params: readonly QueryParam[]): MultipartOperation | undefined {
  const has = (name: string) => params.some((param) => param.key === name);
  if (!has("uploads") && !has("uploadId") && !has("partNumber")) return undefined;
  if (method === "POST" && has("uploads") && !has("uploadId")) return "initiate";
  if (has("uploads"))
    throw new OssError("MethodNotAllowed", `The method ${method} is not allowed with uploads.`);
  if (method === "PUT" && has("partNumber")) return "upload-part";
  if (has("partNumber")) {
    throw new OssError("MethodNotAllowed", `The method ${method} is not allowed with partNumber.`);
  }
  if (method === "GET") return "list-parts";
  if (method === "POST") return "complete";
  if (method === "DELETE") return "abort";
  throw new OssError("MethodNotAllowed", `The method ${method} is not allowed with uploadId.`);
}

function isStyleQuery(params: readonly QueryParam[]): boolean {
  return params.some((param) => param.key === "x-oss-process" && param.value?.startsWith("style/"));
}

app.onError((error, c) =>
  errorResponse(error, c.get("requestId") ?? newRequestId(), new URL(c.req.url).host, c.req.method),
);

export default app;

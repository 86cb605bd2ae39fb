import { type Context, Hono } from "hono";
import { authenticate, type Caller } from "./auth";
import { parseQuery, type QueryParam } from "./auth/canonical";
import { type Env, type ServiceConfig, serviceConfig } from "./config";
import { Deadline } from "./deadline";
import { OssError } from "./errors";
import { copyObject } from "./http/copy-object";
import { errorResponse } from "./http/error-response";
import { serveObject, serveObjectMeta } from "./http/object";
import { deleteObject, putObject } from "./http/object-write";
import { processObject } from "./http/process-object";
import { processStringFor } from "./http/process-string";
import { serveProcessed } from "./http/processed";
import { type ObjectAddress, resolveAddress } from "./http/resolve";
import { styleApi } from "./http/styles-api";
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

/** Object sub-resources of OSS APIs this service does not implement (ACLs, tags, multipart…). */
const UNIMPLEMENTED_SUB_RESOURCES = new Set([
  "acl",
  "tagging",
  "symlink",
  "uploads",
  "uploadId",
  "partNumber",
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
    throw new OssError("NotImplemented", "Bucket-level operations other than styles are not implemented.");
  }
  const unimplemented = params.find((param) => UNIMPLEMENTED_SUB_RESOURCES.has(param.key));
  if (unimplemented) throw new OssError("NotImplemented", `The ${unimplemented.key} API is not implemented.`);

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
      if (process === undefined) return serveObject(bucket.store, key, request);
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
      return putObject(bucket.store, key, request);
    case "DELETE":
      requireSignature(caller, "DeleteObject");
      return deleteObject(bucket.store, key);
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

function isStyleQuery(params: readonly QueryParam[]): boolean {
  return params.some((param) => param.key === "x-oss-process" && param.value?.startsWith("style/"));
}

app.onError((error, c) =>
  errorResponse(error, c.get("requestId") ?? newRequestId(), new URL(c.req.url).host, c.req.method),
);

export default app;

import { Hono } from "hono";
import { type Env, serviceConfig } from "./config";
import { OssError } from "./errors";
import { errorResponse } from "./http/error-response";
import { serveObject } from "./http/object";
import { processStringFor } from "./http/process-string";
import { serveProcessed } from "./http/processed";
import { resolveAddress } from "./http/resolve";
import { parseProcess } from "./process/parse";

type AppEnv = { Bindings: Env; Variables: { requestId: string } };

const app = new Hono<AppEnv>();

/** OSS request ids: 24 upper-case hex digits. */
function newRequestId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0").toUpperCase()).join("");
}

app.use(async (c, next) => {
  c.set("requestId", newRequestId());
  await next();
  c.res.headers.set("x-oss-request-id", c.get("requestId"));
});

app.on(["GET", "HEAD"], "*", async (c) => {
  const config = serviceConfig(c.env);
  const url = new URL(c.req.url);
  const address = resolveAddress(url, config);
  const { bucket, key } = address;
  if (key === "") throw new OssError("NotImplemented", "Bucket-level operations are not implemented.");
  const process = await processStringFor(url, address, config);
  if (process === undefined) return serveObject(bucket.store, key, c.req.raw);
  return serveProcessed({
    bucket,
    key,
    process: parseProcess(process),
    request: c.req.raw,
    memoryBudgetBytes: config.memoryBudgetBytes,
    fonts: config.fonts,
    waitUntil: (promise) => c.executionCtx.waitUntil(promise),
  });
});

app.all("*", (c) => {
  throw new OssError("MethodNotAllowed", `The method ${c.req.method} is not allowed here.`);
});

app.onError((error, c) =>
  errorResponse(error, c.get("requestId") ?? newRequestId(), new URL(c.req.url).host, c.req.method),
);

export default app;

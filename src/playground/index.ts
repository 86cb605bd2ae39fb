// The playground: a page for trying process strings against this Worker's buckets, and the few JSON
// endpoints it needs. A development aid, served only when the Worker var PLAYGROUND is "on"; when it
// is off, /_playground requests reach the OSS routes exactly as any other path does.
import { type ExecutionContext, Hono, type MiddlewareHandler } from "hono";
import { type Env, serviceConfig } from "../config";
import { PLAYGROUND_PAGE } from "./page";
import { throttledBody } from "./throttle";

/** The Worker's own fetch handler, so that a throttled load runs in-process instead of over the network. */
export type WorkerFetch = (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>;

const PLAYGROUND_PATH = "/_playground";

const DEFAULT_LIST_LIMIT = 200;
const MAX_LIST_LIMIT = 1000;
/** About 20 KB/s: a photo-sized JPEG takes a few seconds, long enough to watch progressive scans. */
const DEFAULT_CHUNK_BYTES = 2048;
const DEFAULT_CHUNK_DELAY_MS = 100;

const IMAGE_EXTENSIONS = /\.(jpe?g|png|gif|webp|avif|bmp|tiff?|heic|heif)$/i;

/** Mounted with `app.all("/_playground/*", playground(app.fetch))`; passes everything on when off. */
export function playground(workerFetch: WorkerFetch): MiddlewareHandler<{ Bindings: Env }> {
  const routes = playgroundRoutes(workerFetch);
  return async (c, next) => {
    if (!serviceConfig(c.env).playground) return next();
    return routes.fetch(c.req.raw, c.env, c.executionCtx);
  };
}

function playgroundRoutes(workerFetch: WorkerFetch): Hono<{ Bindings: Env }> {
  // Not strict: "/_playground/" is the page too.
  const routes = new Hono<{ Bindings: Env }>({ strict: false }).basePath(PLAYGROUND_PATH);

  routes.get("/", () => page());

  routes.get("/api/buckets", (c) => {
    const config = serviceConfig(c.env);
    const buckets = publicBuckets(c.env).map((bucket) => bucket.name);
    const preferred = config.defaultBucket?.name;
    return json({
      buckets,
      defaultBucket: preferred && buckets.includes(preferred) ? preferred : buckets[0],
    });
  });

  routes.get("/api/objects", async (c) => {
    const name = c.req.query("bucket") ?? "";
    const bucket = publicBuckets(c.env).find((candidate) => candidate.name === name);
    // Private buckets stay out: the page loads images anonymously, and their keys are not public.
    if (!bucket) return json({ error: `No public-read bucket is named "${name}".` }, 404);
    const limit = integerParam(c.req.query("limit"), DEFAULT_LIST_LIMIT, 1, MAX_LIST_LIMIT);
    if (limit === undefined)
      return json({ error: `limit must be an integer from 1 to ${MAX_LIST_LIMIT}.` }, 400);
    // `include` is honoured at this compatibility date; the base workers-types predate it.
    const options = {
      prefix: c.req.query("prefix") || undefined,
      cursor: c.req.query("cursor") || undefined,
      limit,
      include: ["httpMetadata"],
    } as R2ListOptions;
    const listed = await bucket.store.list(options);
    return json({
      bucket: bucket.name,
      objects: listed.objects.map((object) => {
        const contentType = object.httpMetadata?.contentType;
        return {
          key: object.key,
          size: object.size,
          uploaded: object.uploaded.toISOString(),
          contentType,
          image: contentType ? contentType.startsWith("image/") : IMAGE_EXTENSIONS.test(object.key),
        };
      }),
      cursor: listed.truncated ? listed.cursor : undefined,
    });
  });

  routes.get("/api/throttled", async (c) => {
    const target = sameOriginTarget(c.req.query("path"), c.req.url);
    if (typeof target === "string") return json({ error: target }, 400);
    const chunkBytes = integerParam(c.req.query("chunk"), DEFAULT_CHUNK_BYTES, 64, 1 << 20);
    const delayMs = integerParam(c.req.query("delay"), DEFAULT_CHUNK_DELAY_MS, 0, 5000);
    if (chunkBytes === undefined || delayMs === undefined) {
      return json({ error: "chunk must be 64 to 1048576 bytes and delay 0 to 5000 ms." }, 400);
    }
    const upstream = await workerFetch(new Request(target), c.env, c.executionCtx);
    const headers = new Headers(upstream.headers);
    // The body arrives slowly on purpose; a stale copy in the browser cache would defeat that.
    headers.set("Cache-Control", "no-store");
    headers.delete("Content-Length");
    headers.set("X-Playground-Throttle", `${chunkBytes} B every ${delayMs} ms`);
    const body = upstream.body && throttledBody(upstream.body, chunkBytes, delayMs);
    return new Response(body, { status: upstream.status, headers });
  });

  routes.notFound(() => json({ error: "No such playground endpoint." }, 404));
  return routes;
}

function page(): Response {
  return new Response(PLAYGROUND_PAGE, {
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Cache-Control": "no-store",
      // Everything the page needs is inline or same-origin; result images are shown from blob: URLs.
      "Content-Security-Policy":
        "default-src 'self'; img-src 'self' blob: data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-ancestors 'none'",
    },
  });
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" },
  });
}

function publicBuckets(env: Env) {
  return [...serviceConfig(env).buckets.values()].filter((bucket) => bucket.acl === "public-read");
}

/** The value as an integer in [min, max], `fallback` when absent, undefined when invalid. */
function integerParam(
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined || value === "") return fallback;
  const number = Number(value);
  return Number.isInteger(number) && number >= min && number <= max ? number : undefined;
}

/**
 * The URL for a same-origin `path` ("/<bucket>/<key>?x-oss-process=..."), or why it is refused. Only
 * paths of this origin pass, so the endpoint cannot be used as an open proxy, and never the playground
 * itself, so it cannot call itself.
 */
function sameOriginTarget(path: string | undefined, requestUrl: string): URL | string {
  if (!path) return "path is required: a same-origin path such as /demo/photo.jpg?x-oss-process=...";
  if (!path.startsWith("/")) return "path must be a same-origin path starting with /, not a URL.";
  const origin = new URL(requestUrl).origin;
  const target = new URL(path, origin);
  // "//host/..." and "/\host/..." parse as other hosts: comparing origins catches every such spelling.
  if (target.origin !== origin) return "path must stay on this origin.";
  const pathname = safeDecode(target.pathname);
  if (pathname === PLAYGROUND_PATH || pathname.startsWith(`${PLAYGROUND_PATH}/`)) {
    return "path may not point into the playground.";
  }
  return target;
}

function safeDecode(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

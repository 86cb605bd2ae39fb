/**
 * Structured logs: one JSON object per line, each with the request id that the client also gets
 * in `x-oss-request-id`, so a complaint quoting the id finds every line of its request.
 */
export type LogLevel = "info" | "warn" | "error";

export function logEvent(
  level: LogLevel,
  requestId: string,
  event: string,
  fields: Record<string, unknown> = {},
) {
  const line = JSON.stringify({ time: new Date().toISOString(), level, requestId, event, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/** Query parameters worth logging; signatures, credentials and tokens never are. */
const LOGGED_PARAMS = new Set(["x-oss-process", "style"]);

/** The request's path and its loggable query parameters, without credentials. */
export function loggablePath(url: URL): string {
  const kept = [...url.searchParams].filter(([name]) => LOGGED_PARAMS.has(name));
  const query = new URLSearchParams(kept).toString();
  return query ? `${url.pathname}?${query}` : url.pathname;
}

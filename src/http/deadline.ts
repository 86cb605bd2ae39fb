import { OssError } from "../errors";

/**
 * Runs `work` with a deadline: past it the client gets `400 RequestTimeout` and the signal given to
 * `work` is aborted, so work that finishes later writes nothing (ProcessObject checks it before
 * saving). A timer cannot interrupt code that never yields, such as one long WASM call; that is
 * bounded by the memory plan and, on Cloudflare, by the CPU time limit.
 */
export async function withDeadline<T>(
  milliseconds: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: number | null = null;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(
        new OssError("RequestTimeout", `The request did not finish within ${milliseconds / 1000} seconds.`),
      );
    }, milliseconds);
  });
  try {
    return await Promise.race([work(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}

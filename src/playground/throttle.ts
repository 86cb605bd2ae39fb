/**
 * Re-chunks `body` into pieces of `chunkBytes` with a pause of `delayMs` before each piece after the
 * first: a slow network, so that the browser paints a progressive JPEG scan by scan.
 */
export function throttledBody(
  body: ReadableStream<Uint8Array>,
  chunkBytes: number,
  delayMs: number,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let pending: Uint8Array = new Uint8Array(0);
  let sourceDone = false;
  let first = true;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (!sourceDone && pending.length < chunkBytes) {
        const { done, value } = await reader.read();
        if (done) sourceDone = true;
        else pending = concat(pending, value);
      }
      if (pending.length === 0) {
        controller.close();
        return;
      }
      if (!first && delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      first = false;
      controller.enqueue(pending.slice(0, chunkBytes));
      pending = pending.subarray(chunkBytes);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

import { OssError } from "./errors";

/**
 * How long a request may take. Past it the client gets `400 RequestTimeout`, and nothing the
 * request was doing is saved. Two mechanisms, because each misses what the other catches: a timer
 * answers a request stuck waiting on I/O, but cannot fire while computation runs (nor while one
 * I/O completion chains straight into more work); checks between stages catch a request that
 * computes past its deadline. On Cloudflare's edge clocks advance only across I/O, so a single
 * long WASM call is bounded by the memory plan and the platform's CPU limit instead.
 */
export class Deadline {
  private readonly expiresAt: number;

  constructor(private readonly milliseconds: number) {
    this.expiresAt = Date.now() + milliseconds;
  }

  /** Throws RequestTimeout when the deadline has passed. */
  check(): void {
    if (Date.now() >= this.expiresAt) throw this.timeout();
  }

  private timeout(): OssError {
    return new OssError(
      "RequestTimeout",
      `The request did not finish within ${this.milliseconds / 1000} seconds.`,
    );
  }

  /** Runs `work`, answering RequestTimeout if the deadline passes while it waits. */
  async run<T>(work: (deadline: Deadline) => Promise<T>): Promise<T> {
    let timer: number | null = null;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.timeout()), Math.max(0, this.expiresAt - Date.now()));
    });
    try {
      return await Promise.race([work(this), expired]);
    } finally {
      clearTimeout(timer);
    }
  }
}

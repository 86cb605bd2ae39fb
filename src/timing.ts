/**
 * Durations of a request's stages for the `Server-Timing` header (read, cache, decode, each step,
 * encode). Clocks in workerd advance during computation locally; on Cloudflare's edge they advance
 * only across I/O, so there computation stages can read 0 while read and cache stay meaningful.
 */
export class Timings {
  /** Milliseconds by stage, in first-measured order; a stage measured twice (two resizes) adds up. */
  private readonly stages = new Map<string, number>();
  private readonly descriptions = new Map<string, string>();

  async measure<T>(stage: string, work: () => T | Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.stages.set(stage, (this.stages.get(stage) ?? 0) + performance.now() - start);
    }
  }

  describe(stage: string, description: string): void {
    this.descriptions.set(stage, description);
  }

  /** `read;dur=1.2, cache;dur=0.3;desc="miss", decode;dur=30.5`: stage names are action names. */
  header(): string {
    return [...this.stages]
      .map(([stage, ms]) => {
        const description = this.descriptions.get(stage);
        return `${stage};dur=${ms.toFixed(1)}${description ? `;desc="${description}"` : ""}`;
      })
      .join(", ");
  }
}

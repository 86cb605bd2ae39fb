/**
 * Durations of a request's stages for the `Server-Timing` header (read, cache, decode, each step,
 * encode). Clocks in workerd advance during computation locally; on Cloudflare's edge they advance
 * only across I/O, so there computation stages can read 0 while read and cache stay meaningful.
 */
export class Timings {
  /** Answers the isolate's WebAssembly memory in MiB: every header ends with it (`wasm;desc="38.5"`). */
  constructor(private readonly wasmMemoryMiB?: () => string) {}

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

  /** Adds a duration measured elsewhere (inside the codec engine). */
  add(stage: string, ms: number): void {
    this.stages.set(stage, (this.stages.get(stage) ?? 0) + ms);
  }

  /** A description for a stage; a stage with a description and no duration is a plain note. */
  describe(stage: string, description: string): void {
    this.descriptions.set(stage, description);
  }

  /**
   * `read;dur=1.2, cache;dur=0.3;desc="miss", decode;dur=30.5, wasm;desc="38.5"`: stage names are
   * action names; notes without a duration (the engine's memory in MiB) come last.
   */
  header(): string {
    if (this.wasmMemoryMiB) this.describe("wasm", this.wasmMemoryMiB());
    const timed = [...this.stages].map(([stage, ms]) => {
      const description = this.descriptions.get(stage);
      return `${stage};dur=${ms.toFixed(1)}${description ? `;desc="${description}"` : ""}`;
    });
    const notes = [...this.descriptions]
      .filter(([stage]) => !this.stages.has(stage))
      .map(([stage, description]) => `${stage};desc="${description}"`);
    return [...timed, ...notes].join(", ");
  }
}

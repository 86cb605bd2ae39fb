import { readNothing } from "../process/params";
import type { ReportModule } from "../process/types";

/**
 * `info`: size, format, frames and EXIF as OSS's JSON (every value a string in `{"value": ...}`).
 * Header and EXIF only; never decodes pixels (Decision 8). PNG reports no EXIF, as OSS does.
 */
export const info: ReportModule<void> = {
  kind: "report",
  name: "info",
  parse: readNothing,
  report(_options, { bytes, header }) {
    const fields = new Map<string, string>([
      ["FileSize", String(bytes.length)],
      ["Format", header.format],
      ["FrameCount", String(header.frames)],
      ["ImageHeight", String(header.height)],
      ["ImageWidth", String(header.width)],
    ]);
    if (header.format !== "png") {
      for (const [name, value] of header.exif.tags) if (!fields.has(name)) fields.set(name, value);
    }
    const json: Record<string, { value: string }> = {};
    for (const name of [...fields.keys()].sort()) json[name] = { value: fields.get(name) as string };
    return { body: new TextEncoder().encode(JSON.stringify(json)), contentType: "application/json" };
  },
};

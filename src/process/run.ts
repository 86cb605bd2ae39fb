import { decodeImage } from "../codecs";
import { MIME_TYPES } from "../image/format";
import { readHeader } from "../image/header";
import { applyOrientation } from "../image/orient";
import type { ParsedProcess } from "./parse";
import { planProcess } from "./plan";
import type { ProcessOutput } from "./types";

/** Runs a parsed process on the source bytes: header, plan, decode, steps, encode. */
export async function runProcess(
  process: ParsedProcess,
  bytes: Uint8Array,
  memoryBudgetBytes: number,
): Promise<ProcessOutput> {
  const header = readHeader(bytes);
  const [first] = process.actions;
  if (first?.kind === "report") return first.report({ bytes, header });

  const plan = planProcess(process.actions, header, bytes.length, memoryBudgetBytes);
  let image = applyOrientation(await decodeImage(bytes, header, plan.decodeScale), plan.orientation);
  for (const { action, geometry } of plan.steps) {
    image = await action.apply(image, geometry, plan.context);
  }
  const body = await plan.encoder.encode(image, { quality: plan.quality, progressive: plan.progressive });
  return { body, contentType: MIME_TYPES[plan.outputFormat] };
}

import type { BucketConfig, ServiceConfig } from "../config";
import type { Deadline } from "../deadline";
import { engineMemoryMiB } from "../engine/instance";
import { invalidArgument, OssError } from "../errors";
import { decodeBase64Text } from "../process/base64";
import { parseProcess } from "../process/parse";
import { runProcess } from "../process/run";
import { readStyle } from "../styles";
import { Timings } from "../timing";
import { checkObjectName } from "./object-name";
import { openSource, processEnvironment } from "./processed";

const BODY_PREFIX = "x-oss-process=";
const SAVEAS_PREFIX = "sys/saveas,";

interface SaveAs {
  readonly object: string;
  readonly bucket?: string;
}

/**
 * The body is `x-oss-process=<process>|sys/saveas,o_<key>,b_<bucket>` (Decision 12): form-encoded
 * or not, Base64 URL-safe or standard.
 */
function parseBody(body: string): { process: string; saveAs: SaveAs } {
  const text = body.trim();
  if (!text.startsWith(BODY_PREFIX))
    throw new OssError("MissingArgument", "The body must be x-oss-process=<process>.");
  let value = text.slice(BODY_PREFIX.length);
  try {
    value = decodeURIComponent(value);
  } catch {
    throw invalidArgument("The x-oss-process body is not valid URL encoding.");
  }
  const bar = value.indexOf("|");
  const saveAsPart = bar < 0 ? "" : value.slice(bar + 1);
  if (!saveAsPart.startsWith(SAVEAS_PREFIX)) {
    throw invalidArgument("ProcessObject needs |sys/saveas,o_<object> after the process.");
  }
  const params = new Map<string, string>();
  for (const token of saveAsPart.slice(SAVEAS_PREFIX.length).split(",")) {
    const underscore = token.indexOf("_");
    if (underscore <= 0) throw invalidArgument(`The sys/saveas parameter: ${token} is invalid.`);
    params.set(token.slice(0, underscore), token.slice(underscore + 1));
  }
  for (const name of params.keys()) {
    if (name !== "o" && name !== "b")
      throw invalidArgument(`The sys/saveas parameter: ${name} is not supported.`);
  }
  const object = params.get("o");
  if (object === undefined) throw new OssError("MissingArgument", "sys/saveas needs o_<Base64 object key>.");
  const bucket = params.get("b");
  return {
    process: value.slice(0, bar),
    saveAs: {
      object: decodeBase64Text(object),
      bucket: bucket === undefined ? undefined : decodeBase64Text(bucket),
    },
  };
}

/**
 * ProcessObject (`POST /<key>?x-oss-process`): processes the object and writes the result to
 * the target bucket and key, then answers OSS's JSON. Nothing is written when anything fails.
 */
export async function processObject(
  bucket: BucketConfig,
  key: string,
  request: Request,
  config: ServiceConfig,
  deadline: Deadline,
  warn: (message: string) => void,
): Promise<Response> {
  const { process, saveAs } = parseBody(await request.text());
  checkObjectName(saveAs.object);
  const target = saveAs.bucket === undefined ? bucket : config.buckets.get(saveAs.bucket);
  if (!target) throw new OssError("NoSuchBucket", `The target bucket ${saveAs.bucket} does not exist.`);
  const processString = process.startsWith("style/")
    ? await readStyle(config.styles, bucket.name, process.slice("style/".length))
    : process;
  const parsed = parseProcess(processString);

  const source = await openSource(bucket.store, key);
  const bytes = new Uint8Array(await source.arrayBuffer());
  const timings = new Timings(engineMemoryMiB);
  const output = await runProcess(
    parsed,
    bytes,
    processEnvironment(bucket, config.fonts, config.memoryBudgetBytes, timings, deadline, warn),
  );

  // Past the deadline the client has (or gets) a RequestTimeout: it must not find a result saved.
  deadline.check();
  await target.store.put(saveAs.object, output.body, { httpMetadata: { contentType: output.contentType } });
  return Response.json(
    { bucket: target.name, fileSize: output.body.length, object: saveAs.object, status: "OK" },
    { headers: { "Server-Timing": timings.header() } },
  );
}

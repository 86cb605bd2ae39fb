import { invalidArgument } from "../errors";
import { REQUEST_LIMITS } from "../limits";
import { ACTIONS } from "./registry";
import { type ActionParams, type BoundAction, bindAction } from "./types";

export interface ParsedProcess {
  readonly actions: readonly BoundAction[];
  /** A canonical spelling: equal for requests that must give the same image (the cache key). */
  readonly normalized: string;
  /** Keys of other objects of the bucket that the actions read (watermark images). */
  readonly references: readonly string[];
}

const OTHER_SERVICES = new Set(["doc", "video", "audio"]);

/** Parses an `x-oss-process` value (already percent-decoded) such as `image/resize,w_200/interlace,1`. */
export function parseProcess(value: string): ParsedProcess {
  if (value.length > REQUEST_LIMITS.processLength) {
    throw invalidArgument(
      `The process string has ${value.length} characters; at most ${REQUEST_LIMITS.processLength} are allowed.`,
    );
  }
  if (value.includes("|")) {
    if (value.includes("sys/saveas")) {
      throw invalidArgument("sys/saveas is only allowed in a POST ProcessObject request.");
    }
    throw invalidArgument("Pipelines with | are only allowed in a POST ProcessObject request.");
  }
  const [kind, ...segments] = value.split("/");
  if (kind !== "image") {
    if (OTHER_SERVICES.has(kind)) {
      throw invalidArgument(`The processing type: ${kind} is not supported by this service; only image is.`);
    }
    throw invalidArgument(`The process: ${value} is invalid; it must start with image/.`);
  }

  const actions: BoundAction[] = [];
  const normalized: string[] = ["image"];
  for (const segment of joinBase64Slashes(segments)) {
    if (segment === "") continue;
    const params = splitParams(segment);
    const module = ACTIONS.get(params.action);
    if (!module) throw invalidArgument(`The action: ${params.action} is not supported.`);
    actions.push(bindAction(module, module.parse(params)));
    normalized.push(normalizeParams(params));
    if (actions.length > REQUEST_LIMITS.actions) {
      throw invalidArgument(`A process may chain at most ${REQUEST_LIMITS.actions} actions.`);
    }
  }
  const counts = new Map<string, number>();
  for (const action of actions) counts.set(action.name, (counts.get(action.name) ?? 0) + 1);
  for (const [name, count] of counts) {
    const module = ACTIONS.get(name);
    const limit = module?.kind === "step" ? module.maxPerProcess : undefined;
    if (limit !== undefined && count > limit) {
      throw invalidArgument(`The action: ${name} may appear at most ${limit} times.`);
    }
  }
  if (actions.length > 1) {
    const report = actions.find((action) => action.kind === "report");
    if (report) throw invalidArgument(`The action: ${report.name} cannot be combined with other actions.`);
  }
  const references = [
    ...new Set(actions.flatMap((action) => (action.kind === "step" ? action.references : []))),
  ];
  return { actions, normalized: normalized.join("/"), references };
}

/**
 * Standard Base64 may hold `/`, which also separates actions: a segment that follows a Base64
 * parameter (as its module declares) and does not start with an action name is the rest of it.
 */
function joinBase64Slashes(segments: string[]): string[] {
  const joined: string[] = [];
  for (const segment of segments) {
    const previous = joined.at(-1);
    const lastParam = previous?.split(",").at(-1) ?? "";
    const previousModule = previous === undefined ? undefined : ACTIONS.get(previous.split(",")[0]);
    const inBase64 = previousModule?.base64Params?.includes(lastParam.slice(0, lastParam.indexOf("_")));
    if (previous !== undefined && inBase64 && !ACTIONS.has(segment.split(",")[0])) {
      joined[joined.length - 1] = `${previous}/${segment}`;
    } else {
      joined.push(segment);
    }
  }
  return joined;
}

function splitParams(segment: string): ActionParams {
  const [action, ...tokens] = segment.split(",");
  let bare: string | undefined;
  const named = new Map<string, string>();
  for (const token of tokens) {
    if (token === "") continue;
    const underscore = token.indexOf("_");
    if (underscore > 0) {
      named.set(token.slice(0, underscore), token.slice(underscore + 1));
    } else if (bare === undefined) {
      bare = token;
    } else {
      throw invalidArgument(`The action: ${action} takes one value, got: ${bare} and ${token}.`);
    }
  }
  return { action, bare, named };
}

function normalizeParams({ action, bare, named }: ActionParams): string {
  const parts = [action];
  if (bare !== undefined) parts.push(bare);
  for (const name of [...named.keys()].sort()) parts.push(`${name}_${named.get(name)}`);
  return parts.join(",");
}

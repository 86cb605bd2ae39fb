import { invalidArgument } from "../errors";
import { ACTIONS } from "./registry";
import { type ActionParams, type BoundAction, bindAction } from "./types";

export interface ParsedProcess {
  readonly actions: readonly BoundAction[];
  /** A canonical spelling: equal for requests that must give the same image (the cache key). */
  readonly normalized: string;
}

const OTHER_SERVICES = new Set(["doc", "video", "audio"]);

/** Parses an `x-oss-process` value (already percent-decoded) such as `image/resize,w_200/interlace,1`. */
export function parseProcess(value: string): ParsedProcess {
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
  for (const segment of segments) {
    if (segment === "") continue;
    const params = splitParams(segment);
    const module = ACTIONS.get(params.action);
    if (!module) throw invalidArgument(`The action: ${params.action} is not supported.`);
    actions.push(bindAction(module, module.parse(params)));
    normalized.push(normalizeParams(params));
  }
  if (actions.length > 1) {
    const report = actions.find((action) => action.kind === "report");
    if (report) throw invalidArgument(`The action: ${report.name} cannot be combined with other actions.`);
  }
  return { actions, normalized: normalized.join("/") };
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

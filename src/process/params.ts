import { invalidArgument } from "../errors";
import type { Rgba } from "../image/raster";
import type { ActionParams } from "./types";

/** Turns one raw parameter value into a typed one, or throws InvalidArgument. */
export type Parser<T> = (raw: string, name: string, action: string) => T;

const invalid = (action: string, name: string, raw: string) =>
  invalidArgument(`The value: ${raw} of parameter: ${name} of action: ${action} is invalid.`);

export function integer(min: number, max: number): Parser<number> {
  return (raw, name, action) => {
    if (!/^[+-]?\d{1,9}$/.test(raw)) throw invalid(action, name, raw);
    const value = Number(raw);
    if (value < min || value > max) {
      throw invalidArgument(
        `The value: ${raw} of parameter: ${name} of action: ${action} must be in [${min}, ${max}].`,
      );
    }
    return value;
  };
}

export function oneOf<T extends string>(...values: T[]): Parser<T> {
  return (raw, name, action) => {
    if (!(values as string[]).includes(raw)) throw invalid(action, name, raw);
    return raw as T;
  };
}

export function either<A, B>(first: Parser<A>, second: Parser<B>): Parser<A | B> {
  return (raw, name, action) => {
    try {
      return first(raw, name, action);
    } catch {
      return second(raw, name, action);
    }
  };
}

/** Six hex digits, as OSS writes colours (`color_FF0000`). */
export const hexColor: Parser<Rgba> = (raw, name, action) => {
  if (!/^[0-9a-fA-F]{6}$/.test(raw)) throw invalid(action, name, raw);
  const rgb = Number.parseInt(raw, 16);
  return [(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255, 255];
};

type Spec = Record<string, Parser<unknown>>;
type Parsed<S extends Spec> = { [K in keyof S]?: S[K] extends Parser<infer T> ? T : never };

/** Reads the named parameters of an action that takes no bare value. Unknown names are rejected. */
export function readNamed<S extends Spec>(params: ActionParams, spec: S): Parsed<S> {
  if (params.bare !== undefined) {
    throw invalidArgument(`The action: ${params.action} does not take a bare value: ${params.bare}.`);
  }
  const result: Record<string, unknown> = {};
  for (const [name, raw] of params.named) {
    const parse = spec[name];
    if (!parse) throw invalidArgument(`The parameter: ${name} is not supported by action: ${params.action}.`);
    result[name] = parse(raw, name, params.action);
  }
  return result as Parsed<S>;
}

/** Reads the single bare value of an action like `rotate,90`. */
export function readBare<T>(params: ActionParams, parse: Parser<T>, fallback?: T): T {
  const [unexpected] = params.named.keys();
  if (unexpected !== undefined) {
    throw invalidArgument(`The parameter: ${unexpected} is not supported by action: ${params.action}.`);
  }
  if (params.bare === undefined) {
    if (fallback === undefined) throw invalidArgument(`The action: ${params.action} needs a value.`);
    return fallback;
  }
  return parse(params.bare, "value", params.action);
}

/** For actions that take no parameters at all, like `info`. */
export function readNothing(params: ActionParams): void {
  if (params.bare !== undefined || params.named.size > 0) {
    throw invalidArgument(`The action: ${params.action} takes no parameters.`);
  }
}

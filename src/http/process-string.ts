import type { QueryParam } from "../auth/canonical";
import type { ServiceConfig } from "../config";
import { invalidArgument } from "../errors";
import { readStyle } from "../styles";
import type { ObjectAddress } from "./resolve";

const STYLE_PREFIX = "style/";

/**
 * The process string a request asks for: `x-oss-process=image/...` as written, or a named style's
 * content from `x-oss-process=style/<name>` or `<key><delimiter><name>`. Undefined: no processing.
 */
export async function processStringFor(
  params: readonly QueryParam[],
  address: ObjectAddress,
  config: ServiceConfig,
): Promise<string | undefined> {
  const param = params.find((p) => p.key === "x-oss-process");
  const value = param && (param.value ?? "");
  if (address.style !== undefined) {
    if (value !== undefined) throw invalidArgument("A style URL cannot also carry x-oss-process.");
    return readStyle(config.styles, address.bucket.name, address.style);
  }
  if (value === "") throw invalidArgument("The x-oss-process parameter is empty.");
  if (value?.startsWith(STYLE_PREFIX)) {
    return readStyle(config.styles, address.bucket.name, value.slice(STYLE_PREFIX.length));
  }
  return value;
}

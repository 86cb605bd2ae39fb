/**
 * Access keys from OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET. Each may hold several comma-separated
 * values, paired by position, so a new key can be added before an old one is removed.
 */
export function readAccessKeys(
  ids: string | undefined,
  secrets: string | undefined,
): ReadonlyMap<string, string> {
  const idList = (ids ?? "").split(",").map((id) => id.trim());
  const secretList = (secrets ?? "").split(",").map((secret) => secret.trim());
  if (idList.length !== secretList.length) {
    throw new Error("OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET must list the same number of values");
  }
  const keys = new Map<string, string>();
  idList.forEach((id, i) => {
    if (id && secretList[i]) keys.set(id, secretList[i]);
  });
  return keys;
}

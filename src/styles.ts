import { invalidArgument, OssError } from "./errors";

/** OSS style names: 1-63 letters, digits, `_`, `-` and `.` (reference §17.2). */
const STYLE_NAME = /^[A-Za-z0-9_.-]{1,63}$/;

export const isStyleName = (name: string) => STYLE_NAME.test(name);

export function checkStyleName(name: string): void {
  if (!isStyleName(name)) throw invalidArgument(`The value: ${name} of parameter: stylename is invalid.`);
}

/** OSS allows at most 50 styles per bucket. */
export const MAX_STYLES_PER_BUCKET = 50;

export const styleKey = (bucket: string, name: string) => `${bucket}/${name}`;

/**
 * Styles are stored per bucket in one R2 bucket (`<bucket>/<name>` holds the process string), so
 * they can change without a deployment and the object API never lists them.
 */
export async function readStyle(styles: R2Bucket, bucket: string, name: string): Promise<string> {
  checkStyleName(name);
  const stored = await styles.get(styleKey(bucket, name));
  if (!stored) throw new OssError("NoSuchStyle", "The specified style does not exist.", "0017-00000251");
  return (await stored.text()).trim();
}

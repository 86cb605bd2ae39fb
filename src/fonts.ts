import { OssError } from "./errors";
import { type Font, FontError, type FontSource, openFont } from "./text/font";

/** The font OSS uses when `type_` is absent. */
export const DEFAULT_FONT = "wqy-zenhei";

/**
 * The file in the FONTS bucket that every name can draw with: Noto Sans SC Regular (SIL OFL 1.1,
 * from the npm package @expo-google-fonts/noto-sans-sc), which covers Simplified Chinese and Latin.
 * `npm start` and `npm run fonts:deploy` upload it, so it is always there.
 */
export const FALLBACK_FONT_FILE = "noto-sans-sc";

/**
 * Files tried before the fallback, per OSS font name. Debian's WenQuanYi and Droid fonts
 * (fonts-wqy-zenhei, fonts-wqy-microhei, fonts-droid-fallback) are the faces OSS names; they are
 * used when someone has uploaded them. The FangZheng faces are proprietary: they map to the
 * WenQuanYi face closest in style. Unknown names draw with the default font's files.
 */
const PREFERRED_FILES: Record<string, readonly string[]> = {
  "wqy-zenhei": ["wqy-zenhei"],
  "wqy-microhei": ["wqy-microhei"],
  droidsansfallback: ["droidsansfallback"],
  fangzhengshusong: ["wqy-zenhei"],
  fangzhengkaiti: ["wqy-zenhei"],
  fangzhengheiti: ["wqy-microhei"],
  fangzhengfangsong: ["wqy-zenhei"],
};

/** The FONTS bucket keys that may draw an OSS font name, best first; the last is always the fallback. */
export const fontFilesFor = (name: string): readonly string[] => [
  ...(PREFERRED_FILES[name] ?? PREFERRED_FILES[DEFAULT_FONT]),
  FALLBACK_FONT_FILE,
];

/** The font file was replaced or deleted after it was opened: open it (or its fallback) again. */
export class FontChanged extends FontError {
  override name = "FontChanged";
}

/** A font file in the FONTS bucket, read by range: what `openFont` needs and nothing more. */
export interface FontFile {
  readonly source: FontSource;
  /** Changes when the file is replaced; a font opened from an older version is dropped. */
  readonly etag: string;
}

/** Opens a font file for range reads; undefined when the bucket has no such file. */
export type FontStore = (file: string) => Promise<FontFile | undefined>;

/** Range reads of an R2 object that must still be the version `head` saw. */
export function r2FontStore(bucket: R2Bucket): FontStore {
  return async (file) => {
    const head = await bucket.head(file);
    if (!head) return undefined;
    const { size, etag } = head;
    return {
      etag,
      source: {
        async read(offset, length) {
          const end = Math.min(size, offset + length);
          if (end <= offset) return new Uint8Array(0);
          const part = await bucket.get(file, {
            range: { offset, length: end - offset },
            onlyIf: { etagMatches: etag },
          });
          if (!part || !("body" in part)) {
            loaded.delete(file);
            throw new FontChanged(`The font ${file} was replaced or deleted while in use.`);
          }
          return new Uint8Array(await (part as R2ObjectBody).arrayBuffer());
        },
      },
    };
  };
}

/** How long an isolate trusts that a font file is absent before it looks again. */
const ABSENT_FOR_MS = 5 * 60 * 1000;

/**
 * Opened fonts stay in the isolate: their lookup tables (a few hundred KB for a CJK font, see
 * Font.retainedBytes), never the file. A file found missing is looked for again after a while.
 */
const loaded = new Map<string, Promise<Font>>();
const absentUntil = new Map<string, number>();

async function openFile(file: string, store: FontStore, now: number): Promise<Font | undefined> {
  const held = loaded.get(file);
  if (held) return held;
  if ((absentUntil.get(file) ?? 0) > now) return undefined;
  const found = await store(file);
  if (!found) {
    // The fallback is looked for every time: once uploaded, it is used at once.
    if (file !== FALLBACK_FONT_FILE) absentUntil.set(file, now + ABSENT_FOR_MS);
    return undefined;
  }
  // Another request may have opened it meanwhile: share that one.
  const opening = loaded.get(file) ?? openFont(found.source);
  loaded.set(file, opening);
  opening.catch(() => loaded.delete(file));
  return opening;
}

/** The font that draws an OSS font name: the first of its files the bucket has. */
export async function loadFont(name: string, store: FontStore, now = Date.now()): Promise<Font> {
  for (const file of fontFilesFor(name)) {
    let font: Font | undefined;
    try {
      font = await openFile(file, store, now);
    } catch (error) {
      if (error instanceof FontError) {
        throw new OssError("WatermarkError", `The font ${file} cannot be used: ${error.message}`);
      }
      throw error;
    }
    if (font) return font;
  }
  throw new OssError(
    "WatermarkError",
    `No font is installed on this service for ${name} (FONTS bucket: upload ${FALLBACK_FONT_FILE} with npm run fonts:deploy).`,
  );
}

/** For tests: forget every opened font and every absence. */
export function forgetFonts(): void {
  loaded.clear();
  absentUntil.clear();
}

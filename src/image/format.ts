/** Image formats by the names OSS uses in `format,<name>` and in `info`. */
export type ImageFormat = "jpg" | "png" | "webp" | "avif" | "gif" | "bmp" | "tiff" | "heic";

export const MIME_TYPES: Record<ImageFormat, string> = {
  jpg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  avif: "image/avif",
  gif: "image/gif",
  bmp: "image/bmp",
  tiff: "image/tiff",
  heic: "image/heic",
};

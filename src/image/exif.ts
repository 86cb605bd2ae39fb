/**
 * A small, defensive reader of EXIF (TIFF-structured) metadata: IFD0, the Exif sub-IFD and the GPS
 * sub-IFD. Broken or hostile EXIF never throws; whatever cannot be read is simply absent.
 */

export interface Exif {
  /** EXIF Orientation 1..8; 1 when absent or invalid. */
  readonly orientation: number;
  /** Known tags by OSS/exiv2 name, each value rendered as a string the way `info` reports it. */
  readonly tags: ReadonlyMap<string, string>;
  /** TIFF's own ImageWidth/ImageLength (only meaningful when the file itself is a TIFF). */
  readonly tiffSize?: { width: number; height: number };
}

const IFD0_TAGS: Record<number, string> = {
  259: "Compression",
  270: "ImageDescription",
  271: "Make",
  272: "Model",
  274: "Orientation",
  282: "XResolution",
  283: "YResolution",
  296: "ResolutionUnit",
  305: "Software",
  306: "DateTime",
  315: "Artist",
  531: "YCbCrPositioning",
  33432: "Copyright",
  34665: "ExifTag",
  34853: "GPSTag",
};

const EXIF_TAGS: Record<number, string> = {
  33434: "ExposureTime",
  33437: "FNumber",
  34850: "ExposureProgram",
  34855: "ISOSpeedRatings",
  36864: "ExifVersion",
  36867: "DateTimeOriginal",
  36868: "DateTimeDigitized",
  36880: "OffsetTime",
  37377: "ShutterSpeedValue",
  37378: "ApertureValue",
  37379: "BrightnessValue",
  37380: "ExposureBiasValue",
  37381: "MaxApertureValue",
  37383: "MeteringMode",
  37384: "LightSource",
  37385: "Flash",
  37386: "FocalLength",
  40960: "FlashpixVersion",
  40961: "ColorSpace",
  40962: "PixelXDimension",
  40963: "PixelYDimension",
  41986: "ExposureMode",
  41987: "WhiteBalance",
  41988: "DigitalZoomRatio",
  41989: "FocalLengthIn35mmFilm",
  41990: "SceneCaptureType",
  42035: "LensMake",
  42036: "LensModel",
};

const GPS_TAGS: Record<number, string> = {
  0: "GPSVersionID",
  1: "GPSLatitudeRef",
  2: "GPSLatitude",
  3: "GPSLongitudeRef",
  4: "GPSLongitude",
  5: "GPSAltitudeRef",
  6: "GPSAltitude",
  7: "GPSTimeStamp",
  18: "GPSMapDatum",
  29: "GPSDateStamp",
};

const TYPE_SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8 };
const MAX_ENTRIES = 512;
const MAX_VALUES = 64;

export const NO_EXIF: Exif = { orientation: 1, tags: new Map() };

/** Reads a TIFF header + IFDs starting at `tiff` (the bytes after `Exif\0\0`, or a whole TIFF file). */
export function readExif(tiff: Uint8Array): Exif {
  if (tiff.length < 8) return NO_EXIF;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const order = view.getUint16(0);
  if (order !== 0x4949 && order !== 0x4d4d) return NO_EXIF;
  const little = order === 0x4949;
  if (view.getUint16(2, little) !== 42) return NO_EXIF;

  const tags = new Map<string, string>();
  const raw = new Map<number, number>();
  const visited = new Set<number>();
  const readIfd = (offset: number, names: Record<number, string>, numbers?: Map<number, number>) => {
    if (visited.has(offset) || offset < 8 || offset + 2 > tiff.length) return;
    visited.add(offset);
    const count = Math.min(view.getUint16(offset, little), MAX_ENTRIES);
    for (let i = 0; i < count; i++) {
      const entry = offset + 2 + i * 12;
      if (entry + 12 > tiff.length) return;
      const tag = view.getUint16(entry, little);
      const type = view.getUint16(entry + 2, little);
      const n = view.getUint32(entry + 4, little);
      const size = TYPE_SIZES[type];
      if (!size || n === 0) continue;
      const valueOffset = size * n <= 4 ? entry + 8 : view.getUint32(entry + 8, little);
      if (valueOffset + size * n > tiff.length) continue;
      const value = renderValue(view, tiff, type, valueOffset, n, little);
      if (numbers && (type === 3 || type === 4)) {
        numbers.set(
          tag,
          type === 3 ? view.getUint16(valueOffset, little) : view.getUint32(valueOffset, little),
        );
      }
      const name = names[tag];
      if (name && value !== undefined) tags.set(name, value);
    }
  };

  readIfd(view.getUint32(4, little), IFD0_TAGS, raw);
  const exifIfd = raw.get(0x8769);
  if (exifIfd !== undefined) readIfd(exifIfd, EXIF_TAGS);
  const gpsIfd = raw.get(0x8825);
  if (gpsIfd !== undefined) readIfd(gpsIfd, GPS_TAGS);

  const orientation = raw.get(0x0112) ?? 1;
  const width = raw.get(0x0100);
  const height = raw.get(0x0101);
  return {
    orientation: orientation >= 1 && orientation <= 8 ? orientation : 1,
    tags,
    tiffSize: width && height ? { width, height } : undefined,
  };
}

function renderValue(
  view: DataView,
  bytes: Uint8Array,
  type: number,
  offset: number,
  count: number,
  little: boolean,
): string | undefined {
  if (type === 2 || type === 7) {
    const text = new TextDecoder().decode(bytes.subarray(offset, offset + count)).replace(/\0+$/, "");
    return type === 7 && !/^[\x20-\x7e]*$/.test(text) ? undefined : text.trim();
  }
  const parts: string[] = [];
  for (let i = 0; i < Math.min(count, MAX_VALUES); i++) {
    const at = offset + i * TYPE_SIZES[type];
    switch (type) {
      case 1:
        parts.push(String(view.getUint8(at)));
        break;
      case 3:
        parts.push(String(view.getUint16(at, little)));
        break;
      case 4:
        parts.push(String(view.getUint32(at, little)));
        break;
      case 5:
        parts.push(`${view.getUint32(at, little)}/${view.getUint32(at + 4, little)}`);
        break;
      case 6:
        parts.push(String(view.getInt8(at)));
        break;
      case 8:
        parts.push(String(view.getInt16(at, little)));
        break;
      case 9:
        parts.push(String(view.getInt32(at, little)));
        break;
      case 10:
        parts.push(`${view.getInt32(at, little)}/${view.getInt32(at + 4, little)}`);
        break;
    }
  }
  return parts.join(" ");
}

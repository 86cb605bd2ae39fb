import resizeWasm, { initResize } from "@jsquash/resize";
import RESIZE_MODULE from "@jsquash/resize/lib/resize/pkg/squoosh_resize_bg.wasm";
import type { Raster, Size } from "../image/raster";
import { asRaster, once } from "./types";

const ready = once(() => initResize(RESIZE_MODULE));

/** Lanczos3 resampling with premultiplied alpha, in the sRGB domain as sharp and OSS do. */
export async function resample(image: Raster, size: Size): Promise<Raster> {
  if (image.width === size.width && image.height === size.height) return image;
  await ready();
  const result = await resizeWasm(image, {
    width: size.width,
    height: size.height,
    method: "lanczos3",
    fitMethod: "stretch",
    premultiply: true,
    linearRGB: false,
  });
  return asRaster(result);
}

import { hasTransparency, type Raster, type Size } from "../image/raster";
import { resizeRaster } from "./engine";

/**
 * Lanczos3 resampling in the sRGB domain, as sharp and OSS do, by the codec engine: rows go
 * through its heap in strips, so it holds the output and a strip, never a copy of the input.
 * Colours are premultiplied by alpha only in images with transparency, where they must be.
 */
export async function resample(image: Raster, size: Size): Promise<Raster> {
  if (image.width === size.width && image.height === size.height) return image;
  return resizeRaster(image, size, hasTransparency(image));
}

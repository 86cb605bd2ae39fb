// @jsquash's typings name the DOM's ImageData; the Workers runtime has none, and a Raster has its shape.
interface ImageData {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

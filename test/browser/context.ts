// What the global setup (global-setup.ts) hands to the browser tests through vitest's provide/inject.

export interface BrowserTestContext {
  /** `http://127.0.0.1:<port>`: the `wrangler dev` (with PLAYGROUND=on) the global setup started. */
  readonly baseUrl: string;
  /** The bucket the objects below were loaded into. */
  readonly bucket: string;
  /** A JPEG of four flat quadrants. */
  readonly photo: { readonly key: string; readonly width: number; readonly height: number };
  /** A small PNG with transparency, for image watermarks. */
  readonly logo: { readonly key: string };
  /** An object that is not an image: listed, but hidden by "images only". */
  readonly notImage: { readonly key: string };
}

declare module "vitest" {
  export interface ProvidedContext {
    browser: BrowserTestContext;
  }
}

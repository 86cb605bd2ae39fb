declare module "vitest" {
  export interface ProvidedContext {
    fixtures: Record<string, string>;
    /** scripts/lib/hostile-corpus.mjs: damaged and hostile files, and what each must get. */
    corpus: {
      name: string;
      base64: string;
      expect: { image: { width: number; height: number } } | { error: string } | { either: true };
    }[];
  }
}

declare global {
  namespace Cloudflare {
    interface Env {
      DEMO: R2Bucket;
      DEMO_PRIVATE: R2Bucket;
      DEMO_AUTO: R2Bucket;
      STYLES: R2Bucket;
      FONTS: R2Bucket;
      OBJECT_STATE: R2Bucket;
      /** Test-only: Debian's font files by OSS font name (vitest.config.ts). */
      TEST_FONTS: Fetcher;
      /** Test-only: scripts/lib/format-images.mjs's PNG and TIFF sources by name (vitest.config.ts). */
      TEST_FORMAT_IMAGES: Fetcher;
      /** Test-only: large generated format sources by name (vitest.config.ts). */
      TEST_IMAGES: Fetcher;
      /** Test-only: AVIF and HEIC test images by name (vitest.config.ts). */
      TEST_HEIF: Fetcher;
    }
  }
}

export {};

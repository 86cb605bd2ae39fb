declare module "vitest" {
  export interface ProvidedContext {
    fixtures: Record<string, string>;
  }
}

declare global {
  namespace Cloudflare {
    interface Env {
      DEMO: R2Bucket;
      DEMO_PRIVATE: R2Bucket;
      STYLES: R2Bucket;
      FONTS: R2Bucket;
      /** Test-only: Debian's font files by OSS font name (vitest.config.ts). */
      TEST_FONTS: Fetcher;
    }
  }
}

export {};

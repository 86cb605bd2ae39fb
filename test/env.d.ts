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
    }
  }
}

export {};

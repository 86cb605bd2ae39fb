// The playground's browser tests (npm run test:browser): Chromium, driven by playwright-core from
// Node, against the Worker running in `wrangler dev` with PLAYGROUND=on (started once by
// test/browser/global-setup.ts). Not part of npm test: it needs Debian's chromium at /usr/bin/chromium.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    environment: "node",
    globalSetup: ["test/browser/global-setup.ts"],
    // wrangler dev takes about 10 s to start here; processing runs in WASM on a shared machine.
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});

// The SDK compatibility tests (npm run test:sdk): the real `ali-oss` client in Node, talking HTTP to
// the Worker running in `wrangler dev` (started once by test/sdk/global-setup.ts). Plain Node
// environment, not the Workers pool of vitest.config.ts.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/sdk/**/*.test.ts"],
    environment: "node",
    globalSetup: ["test/sdk/global-setup.ts"],
    // wrangler dev takes about 10 s to start here; processing runs in WASM on a shared machine.
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});

import { readdirSync, readFileSync } from "node:fs";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Binary fixtures are read here, in Node, and handed to the tests (which run inside workerd) as Base64.
const fixturesDir = new URL("./test/fixtures/", import.meta.url);
const fixtures = Object.fromEntries(
  readdirSync(fixturesDir).map((name) => [name, readFileSync(new URL(name, fixturesDir)).toString("base64")]),
);

export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
  test: {
    provide: { fixtures },
    testTimeout: 30_000,
  },
});

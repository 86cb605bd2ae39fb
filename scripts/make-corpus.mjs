// Writes the hostile image corpus (scripts/lib/hostile-corpus.mjs) to a folder, to look at or to
// try against another service: `node scripts/make-corpus.mjs [folder]` (default .corpus/).
// The tests (test/corpus.test.ts) make the same corpus in memory.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hostileCorpus } from "./lib/hostile-corpus.mjs";

const folder = process.argv[2] ?? ".corpus";
mkdirSync(folder, { recursive: true });
const corpus = await hostileCorpus();
for (const { name, bytes } of corpus) writeFileSync(join(folder, name), bytes);
writeFileSync(
  join(folder, "expected.json"),
  `${JSON.stringify(Object.fromEntries(corpus.map(({ name, expect }) => [name, expect])), null, 2)}\n`,
);
console.log(`wrote ${corpus.length} files and expected.json to ${folder}/`);

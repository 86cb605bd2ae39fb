import { describe, expect, inject, it } from "vitest";
import { readHeader } from "../src/image/header";
import { decoded, ossError, process, request, upload } from "./helpers";

const corpus = inject("corpus");
const bytesOf = (base64: string) => Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));

describe("the hostile image corpus (scripts/lib/hostile-corpus.mjs)", () => {
  it.each(corpus.map((entry) => [entry.name, entry] as const))(
    "%s",
    async (_, { name, base64, expect: wanted }) => {
      const path = await upload(name, bytesOf(base64));
      const response = await process(path, "image/resize,w_32");
      if ("image" in wanted) {
        const image = await decoded(response);
        expect([image.width, image.height]).toEqual([wanted.image.width, wanted.image.height]);
      } else if ("error" in wanted) {
        expect(await ossError(response)).toMatchObject({ code: wanted.error, status: 400 });
      } else if (response.status === 200) {
        const bytes = new Uint8Array(await response.arrayBuffer());
        expect(() => readHeader(bytes)).not.toThrow();
      } else {
        expect((await ossError(response)).status).toBe(400);
      }
      // `info` reads only the header: it answers too, never with a 5xx.
      const info = await process(path, "image/info");
      expect(info.status, await info.clone().text()).toBeLessThan(500);
      // The stored object itself is always served as it was uploaded.
      expect((await request(path)).status).toBe(200);
    },
  );
});

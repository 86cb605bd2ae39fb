import { env } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { OssError } from "../src/errors";
import { parseProcess } from "../src/process/parse";
import { ACTIONS } from "../src/process/registry";
import { encode, fixture, put, quadrants, request } from "./helpers";

/**
 * Every answer must be a success or an OSS XML client error, and must come within this time. The
 * one 5xx allowed is 501 NotImplemented, the documented answer for OSS APIs this service does not
 * implement (bucket listing, ACL and multipart APIs, POST other than ProcessObject).
 */
const ANSWER_WITHIN_MS = 15_000;

async function expectWellFormedAnswer(path: string, init?: RequestInit): Promise<number> {
  const response = await Promise.race([
    request(path, init),
    new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`no answer within ${ANSWER_WITHIN_MS} ms: ${path}`)),
        ANSWER_WITHIN_MS,
      ),
    ),
  ]);
  const body = await response.text();
  const context = `${init?.method ?? "GET"} ${path} -> ${response.status} ${body.slice(0, 300)}`;
  if (response.status !== 501) expect(response.status, context).toBeLessThan(500);
  else if (init?.method !== "HEAD") expect(body, context).toContain("<Code>NotImplemented</Code>");
  expect(response.headers.get("x-oss-request-id"), context).toMatch(/^[0-9A-F]{24}$/);
  if (response.status >= 400 && init?.method !== "HEAD") {
    expect(response.headers.get("Content-Type"), context).toBe("application/xml");
    expect(body, context).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error>\n {2}<Code>\w+<\/Code>/,
    );
  }
  return response.status;
}

const ACTION_NAMES = [...ACTIONS.keys()];
const PARAM_NAMES = [
  "w",
  "h",
  "l",
  "s",
  "p",
  "m",
  "limit",
  "color",
  "x",
  "y",
  "g",
  "r",
  "i",
  "q",
  "Q",
  "t",
  "text",
  "image",
  "size",
  "type",
  "fill",
  "padx",
  "pady",
  "voffset",
  "rotate",
  "shadow",
  "order",
  "align",
  "interval",
];
const VALUE = fc.oneof(
  fc.integer({ min: -20, max: 2000 }).map(String),
  fc.constantFrom(
    "0",
    "1",
    "16384",
    "16385",
    "1000001",
    "-1",
    "+5",
    "00",
    "1e3",
    "0x10",
    "",
    "lfit",
    "fill",
    "pad",
    "nw",
    "se",
    "center",
    "ffffff",
    "zzzzzz",
    "lossless",
  ),
  fc.string({ maxLength: 12 }),
  fc.base64String({ maxLength: 16 }),
);
const PARAM = fc.oneof(
  fc.tuple(fc.constantFrom(...PARAM_NAMES), VALUE).map(([name, value]) => `${name}_${value}`),
  VALUE,
);
const ACTION = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...ACTION_NAMES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
);
/** Process strings shaped like real ones (known actions, known parameter names, odd values). */
const PROCESS = fc
  .array(fc.tuple(ACTION, fc.array(PARAM, { maxLength: 4 })), { minLength: 1, maxLength: 4 })
  .map((actions) => `image/${actions.map(([name, params]) => [name, ...params].join(",")).join("/")}`);
/** And anything at all. */
const ANY_PROCESS = fc.oneof(
  PROCESS,
  fc.string({ maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 100 }),
);

describe("the parser (property-based)", () => {
  it("accepts or refuses with a 4xx OssError, whatever the process string", () => {
    fc.assert(
      fc.property(ANY_PROCESS, (value) => {
        try {
          parseProcess(value);
        } catch (error) {
          if (!(error instanceof OssError)) throw error;
          expect(error.status).toBeGreaterThanOrEqual(400);
          expect(error.status).toBeLessThan(500);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("normalises to a string that parses to the same normal form", () => {
    fc.assert(
      fc.property(PROCESS, (value) => {
        let parsed: ReturnType<typeof parseProcess>;
        try {
          parsed = parseProcess(value);
        } catch {
          return;
        }
        expect(parseProcess(parsed.normalized).normalized).toBe(parsed.normalized);
      }),
      { numRuns: 2000 },
    );
  });
});

/** [action template with {} for the value, lowest accepted, highest accepted]. */
const RANGES: readonly [string, number, number][] = [
  ["resize,w_{}", 1, 16384],
  ["resize,h_{}", 1, 16384],
  ["resize,l_{}", 1, 16384],
  ["resize,s_{}", 1, 16384],
  ["resize,p_{}", 1, 1000],
  ["crop,w_{}", 0, 1_000_000],
  ["crop,x_{}", 0, 1_000_000],
  ["indexcrop,x_{}", 1, 1_000_000],
  ["indexcrop,x_10,i_{}", 0, 1_000_000],
  ["rotate,{}", 0, 360],
  ["circle,r_{}", 1, 4096],
  ["rounded-corners,r_{}", 1, 4096],
  ["blur,r_{},s_2", 1, 50],
  ["blur,r_2,s_{}", 1, 50],
  ["bright,{}", -100, 100],
  ["contrast,{}", -100, 100],
  ["sharpen,{}", 50, 399],
  ["quality,q_{}", 1, 100],
  ["quality,Q_{}", 1, 100],
  ["watermark,text_YQ,t_{}", 0, 100],
  ["watermark,text_YQ,x_{}", 0, 4096],
  ["watermark,text_YQ,y_{}", 0, 4096],
  ["watermark,text_YQ,voffset_{}", -1000, 1000],
  ["watermark,text_YQ,size_{}", 1, 1000],
  ["watermark,text_YQ,shadow_{}", 0, 100],
  ["watermark,text_YQ,rotate_{}", 0, 360],
  ["watermark,text_YQ,interval_{}", 0, 1000],
  ["watermark,text_YQ,padx_{}", 0, 4096],
];

describe("parameter ranges", () => {
  it.each(RANGES)("%s accepts %i to %i and refuses one beyond each end", (template, lowest, highest) => {
    const process = (value: number) => `image/${template.replace("{}", String(value))}`;
    expect(() => parseProcess(process(lowest))).not.toThrow();
    expect(() => parseProcess(process(highest))).not.toThrow();
    for (const outside of [lowest - 1, highest + 1]) {
      expect(() => parseProcess(process(outside)), process(outside)).toThrow(
        expect.objectContaining({ code: "InvalidArgument", status: 400 }),
      );
    }
  });
});

/** Hundreds of real requests each: slow on a loaded 2-core machine, but each must answer in time. */
const REQUEST_PATH_TIMEOUT_MS = 240_000;

describe("the whole request path (property-based)", () => {
  const SOURCES = ["fuzz/photo.jpg", "fuzz/alpha.png", "fuzz/anim.gif"];
  beforeAll(async () => {
    await put(SOURCES[0], await encode.jpg(quadrants(48, 36)));
    await put(SOURCES[1], await encode.png(quadrants(40, 30)));
    await put(SOURCES[2], fixture("anim-3frames.gif"));
  });

  it(
    "answers any process string with an image or an OSS XML 4xx, never a 5xx or a hang",
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...SOURCES), ANY_PROCESS, async (source, value) => {
          await expectWellFormedAnswer(`/demo/${source}?x-oss-process=${encodeURIComponent(value)}`);
        }),
        { numRuns: 250 },
      );
    },
    REQUEST_PATH_TIMEOUT_MS,
  );

  it(
    "answers any object key the same way",
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.string({ unit: "binary", minLength: 1, maxLength: 40 }), async (key) => {
          await expectWellFormedAnswer(`/demo/${encodeURIComponent(key)}`);
          await expectWellFormedAnswer(`/demo/${encodeURIComponent(key)}?x-oss-process=image/resize,w_10`);
        }),
        { numRuns: 150 },
      );
    },
    REQUEST_PATH_TIMEOUT_MS,
  );

  it(
    "answers any request headers the same way",
    async () => {
      const headerName = fc.constantFrom(
        "Authorization",
        "Range",
        "If-None-Match",
        "If-Match",
        "If-Modified-Since",
        "If-Unmodified-Since",
        "Date",
        "x-oss-date",
        "x-oss-content-sha256",
        "Content-Type",
        "Content-MD5",
        "Host",
      );
      const headerValue = fc.oneof(
        fc.string({ maxLength: 60 }).map((value) => value.replace(/[^\x20-\x7e]/g, "")),
        fc.constantFrom(
          "bytes=0-",
          "bytes=-1",
          "bytes=5-2",
          "bytes=0-0,2-3",
          "*",
          "OSS a:b",
          "OSS4-HMAC-SHA256 Credential=x",
        ),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(headerName, headerValue), { maxLength: 4 }),
          fc.constantFrom("GET", "HEAD", "PUT", "POST", "DELETE"),
          fc.boolean(),
          async (headers, method, processed) => {
            const path = processed
              ? `/demo/${SOURCES[0]}?x-oss-process=image/resize,w_20`
              : `/demo/${SOURCES[0]}`;
            const init: RequestInit = { method, headers: new Headers(headers) };
            if (method === "PUT" || method === "POST") init.body = "x-oss-process=image/resize,w_10";
            await expectWellFormedAnswer(path, init);
          },
        ),
        { numRuns: 200 },
      );
      // PUT/DELETE without a valid signature never changed anything.
      expect(await env.DEMO.head(SOURCES[0])).not.toBeNull();
    },
    REQUEST_PATH_TIMEOUT_MS,
  );
});

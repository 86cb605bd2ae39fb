import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { rotateOps } from "../src/actions/rotate";
import { ENGINE_MEMORY_BYTES, engineStatus, resetEnginePeak, withEngine } from "../src/engine/instance";
import { OP, type Op, op } from "../src/engine/ops";
import { EngineSession } from "../src/engine/session";
import { orientOp, rasterOp, resampleOp, restripOp } from "../src/engine/stages";
import type { Raster, Size } from "../src/image/raster";
import worker from "../src/index";
import {
  base64,
  decoded,
  decodeFile,
  expectColour,
  fixture,
  fontFile,
  jpegFrameType,
  ORIGIN,
  planOf,
  process,
  psnr,
  upload,
  wasmMiB,
  withOrientation,
} from "./helpers";

const MiB = 1024 * 1024;
const BUDGET = 88 * MiB;

/** A 200, or the OSS error's message in the failure. */
async function expectOk(response: Response, what: string): Promise<void> {
  if (response.status !== 200) expect.fail(`${what}: ${response.status} ${await response.text()}`);
}

/** Heavy tests: full-size 12 MP work, many times over, on a 2-core machine. */
const HEAVY = { timeout: 300_000 };

/** Runs ops on a raster in the engine and returns the pixels of the capture that ends them. */
function runOnRaster(image: Raster, steps: (input: Size) => Op[], output: Size): Uint8Array {
  const call = withEngine([], (engine) => {
    const session = new EngineSession(engine);
    try {
      const pointer = session.put(
        new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength),
      );
      return session.pixels(session.capture([rasterOp(pointer, image), ...steps(image)], output));
    } finally {
      session.close();
    }
  });
  return new Uint8Array(call.result.buffer, call.result.byteOffset, call.result.byteLength);
}

/** Where two byte arrays first differ (-1 when equal): a diff of megabytes would swamp the report. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe("strips", () => {
  it("gives the same pixels whatever the strips: a kernel or band across strip boundaries", async () => {
    const photo = await decodeFile(fixture("photo.jpg"));
    const size = { width: photo.width, height: photo.height };
    const cases: [string, (input: Size) => Op[], Size][] = [
      ["blur", (input) => [op(OP.BLUR, "blur", 0, input.width, input.height, 20, 8)], size],
      ["sharpen", (input) => [op(OP.SHARPEN, "sharpen", 0, input.width, input.height, 250)], size],
      [
        "rotate 30",
        (input) => rotateOps(30, input, false, [255, 255, 255, 255], "rotate"),
        { width: 1986, height: 1839 },
      ],
      [
        "rotate 100",
        (input) => rotateOps(100, input, false, [0, 0, 0, 0], "rotate"),
        { width: 1460, height: 1784 },
      ],
      ["orient 6", (input) => [orientOp(input, 6, false, "decode")], { width: 1200, height: 1600 }],
      [
        "resize",
        (input) => [resampleOp(input, { width: 733, height: 550 }, false)],
        { width: 733, height: 550 },
      ],
    ];
    for (const [name, steps, output] of cases) {
      const outputs = [1, 7, 64].map((rows) =>
        runOnRaster(photo, (input) => [restripOp(input, rows), ...steps(input)], output),
      );
      expect(firstDifference(outputs[1], outputs[0]), `${name}: 7-row strips`).toBe(-1);
      expect(firstDifference(outputs[2], outputs[0]), `${name}: 64-row strips`).toBe(-1);
    }
  });
});

/** What planning admits and how much it counts, for a process string on a source. */
const planFor = (bytes: Uint8Array, value: string) => planOf(bytes, value, BUDGET).estimatedBytes;

// Each action at full size on a 12-megapixel phone photo, under the default 88 MiB budget.
const FULL_SIZE: [string, [number, number]][] = [
  ["image/quality,q_80", [4032, 3024]],
  ["image/quality,Q_75", [4032, 3024]],
  ["image/format,jpg", [4032, 3024]],
  ["image/interlace,1", [4032, 3024]],
  ["image/auto-orient,1", [4032, 3024]],
  ["image/rotate,90", [3024, 4032]],
  ["image/rotate,180", [4032, 3024]],
  ["image/rotate,45", [4989, 4989]],
  ["image/blur,r_10,s_5", [4032, 3024]],
  ["image/sharpen,100", [4032, 3024]],
  ["image/bright,30", [4032, 3024]],
  ["image/contrast,-40", [4032, 3024]],
  ["image/resize,w_2560", [2560, 1920]],
  ["image/resize,w_3000", [3000, 2250]],
  ["image/resize,w_4500,limit_0", [4500, 3375]],
  ["image/resize,m_pad,w_4000,h_4000,limit_0", [4000, 4000]],
  ["image/crop,x_100,y_100,w_3000,h_2000", [3000, 2000]],
  ["image/indexcrop,y_1000,i_1", [4032, 1000]],
  ["image/circle,r_1500", [3001, 3001]],
  ["image/rounded-corners,r_400", [4032, 3024]],
];

describe("every action at full size on a 12 MP photo", () => {
  it(
    "answers each with the right size, within the engine's ceiling, and plans what it allocates",
    HEAVY,
    async () => {
      const bytes = fixture("photo-12mp.jpg");
      const path = await upload("phone.jpg", bytes);
      for (const [value, [width, height]] of FULL_SIZE) {
        resetEnginePeak();
        const response = await process(path, value);
        await expectOk(response, value);
        expect(wasmMiB(response), value).toBeLessThanOrEqual(96);
        const image = await decoded(response);
        expect([image.width, image.height], value).toEqual([width, height]);
        // The plan counts at least what the engine held at its peak, and not wildly more.
        const estimate = planFor(bytes, value);
        const peak = engineStatus().peakBytes;
        expect(peak, `${value}: peak ${peak} against estimate ${estimate}`).toBeLessThanOrEqual(estimate);
        expect(estimate, `${value}: estimate ${estimate} against peak ${peak}`).toBeLessThanOrEqual(
          peak * 1.35 + 2 * MiB,
        );
      }
      expect(engineStatus().memoryBytes).toBeLessThanOrEqual(ENGINE_MEMORY_BYTES);
    },
  );

  it("keeps the pixels: a full-size re-encode matches the source", HEAVY, async () => {
    const bytes = fixture("photo-12mp.jpg");
    const path = await upload("phone.jpg", bytes);
    const source = await decodeFile(bytes);
    const recoded = await decoded(await process(path, "image/quality,Q_90"));
    expect(psnr(recoded, source)).toBeGreaterThan(38);
    const progressive = await decoded(await process(path, "image/interlace,1"));
    expect(jpegFrameType(progressive.bytes)).toBe("SOF2");
    expect(psnr(progressive, source)).toBeGreaterThan(35);
  });

  it("handles a progressive 12 MP photo and one stored sideways (EXIF 6) at full size", HEAVY, async () => {
    const progressive = await upload("progressive.jpg", fixture("photo-12mp-progressive.jpg"));
    const sideways = await upload("sideways.jpg", withOrientation(fixture("photo-12mp.jpg"), 6));
    const sidewaysProgressive = await upload(
      "sideways-progressive.jpg",
      withOrientation(fixture("photo-12mp-progressive.jpg"), 6),
    );
    for (const [value, expected] of [
      ["image/quality,q_80", [4032, 3024]],
      ["image/rotate,90", [3024, 4032]],
      ["image/blur,r_5,s_3", [4032, 3024]],
      ["image/resize,w_1920", [1920, 1440]],
      ["image/interlace,1", [4032, 3024]],
    ] as const) {
      const image = await decoded(await process(progressive, value));
      expect([image.width, image.height], `progressive ${value}`).toEqual(expected);
    }
    for (const path of [sideways, sidewaysProgressive]) {
      for (const value of ["image/quality,q_80", "image/interlace,1", "image/resize,w_2000"]) {
        const response = await process(path, value);
        expect(wasmMiB(response)).toBeLessThanOrEqual(96);
        const image = await decoded(response);
        // Turned upright: portrait.
        expect(image.height, `${path} ${value}`).toBeGreaterThan(image.width);
      }
    }
  });

  it("turns a photo too large for one frame in band passes, with the same pixels as one pass", async () => {
    const path = await upload("sideways.jpg", withOrientation(fixture("photo-12mp.jpg"), 6));
    const url = new URL(`${path}?x-oss-process=image/quality,Q_90`, ORIGIN);
    const fetchWith = async (budgetMb: string) => {
      const context = createExecutionContext();
      const response = await worker.fetch(
        new Request(url),
        { ...env, IMAGE_MEMORY_BUDGET_MB: budgetMb },
        context,
      );
      await waitOnExecutionContext(context);
      return response;
    };
    const onePass = new Uint8Array(await (await fetchWith("88")).arrayBuffer());
    // 36 MiB of frame does not fit 20 MiB: the frame is turned a band at a time.
    resetEnginePeak();
    const banded = await fetchWith("20");
    expect(banded.status).toBe(200);
    expect(engineStatus().peakBytes).toBeLessThanOrEqual(20 * MiB);
    expect(firstDifference(new Uint8Array(await banded.arrayBuffer()), onePass)).toBe(-1);
  });
});

describe("the memory ceiling", () => {
  beforeAll(async () => {
    await env.FONTS.put("noto-sans-sc", await fontFile("noto-sans-sc"));
  });

  it("holds through a mixed sequence of actions and formats, in any order", HEAVY, async () => {
    const paths = [
      await upload("phone.jpg", fixture("photo-12mp.jpg")),
      await upload("progressive.jpg", fixture("photo-12mp-progressive.jpg")),
      await upload("photo.png", fixture("photo.png")),
      await upload("big.jpg", fixture("quadrants-50mp.jpg")),
    ];
    const values = [
      "image/resize,w_200",
      "image/quality,q_80",
      "image/rotate,90",
      "image/blur,r_8,s_4",
      "image/resize,w_3000",
      "image/format,png/resize,w_400",
      "image/rotate,30",
      "image/interlace,1",
    ];
    // A fixed shuffle, so a failure reproduces. For the 50 MP image, progressive output (147 MiB of
    // coefficients) and a free rotation (a 162 MiB band) are refused by the plan: left out here.
    let seed = 7;
    const refused50 = new Set(["image/interlace,1", "image/rotate,30"]);
    const order = paths
      .flatMap((path) => values.map((value) => [path, value] as const))
      .filter(([path, value]) => !(path === paths[3] && refused50.has(value)));
    for (let i = order.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const j = seed % (i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const [path, value] of order) {
      const response = await process(path, value);
      await expectOk(response, `${path} ${value}`);
      expect(wasmMiB(response), `${path} ${value}`).toBeLessThanOrEqual(96);
      await response.arrayBuffer();
    }
    expect(engineStatus().memoryBytes).toBeLessThanOrEqual(ENGINE_MEMORY_BYTES);
  });

  it("serves 8 full-size requests at once within the ceiling", HEAVY, async () => {
    const path = await upload("phone.jpg", fixture("photo-12mp.jpg"));
    const text = base64("水印");
    const values = [
      "image/quality,q_75",
      "image/rotate,90",
      "image/blur,r_4,s_2",
      "image/resize,w_3200",
      "image/interlace,1",
      "image/bright,20",
      `image/watermark,text_${text},size_200`,
      "image/rotate,10",
    ];
    const responses = await Promise.all(values.map((value) => process(path, value)));
    for (const [i, response] of responses.entries()) {
      expect(response.status, values[i]).toBe(200);
      expect(wasmMiB(response), values[i]).toBeLessThanOrEqual(96);
      const image = await decoded(response);
      expect(image.width, values[i]).toBeGreaterThan(3000);
    }
    expect(engineStatus().memoryBytes).toBeLessThanOrEqual(ENGINE_MEMORY_BYTES);
  });

  it("draws a full-size watermark into the rows it crosses", async () => {
    const path = await upload("phone.jpg", fixture("photo-12mp.jpg"));
    const markKey = `${path.slice("/demo/".length)}-mark.png`;
    await env.DEMO.put(
      decodeURIComponent(markKey),
      fixture("photo.png"), // 800 x 600
    );
    const value = `image/watermark,image_${base64(decodeURIComponent(markKey))},g_nw,x_0,y_0/watermark,image_${base64(decodeURIComponent(markKey))},g_se,x_0,y_0`;
    const out = await decoded(await process(path, value));
    expect([out.width, out.height]).toEqual([4032, 3024]);
    const mark = await decodeFile(fixture("photo.png"));
    const markPixel = (x: number, y: number) =>
      Array.from(mark.data.subarray((y * 800 + x) * 4, (y * 800 + x) * 4 + 4));
    expectColour(out, 400, 300, markPixel(400, 300) as [number, number, number, number], 20);
    expectColour(out, 4032 - 400, 3024 - 300, markPixel(400, 300) as [number, number, number, number], 20);
  });
});

import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { REQUEST_LIMITS } from "../src/limits";
import {
  encode,
  fixture,
  ORIGIN,
  ossError,
  process,
  put,
  quadrants,
  request,
  signedV1,
  upload,
} from "./helpers";

const textMark = (text: string) =>
  `watermark,text_${btoa(text).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "")}`;

describe("limits against abuse", () => {
  it("refuses process strings over the length limit, and accepts one at it", async () => {
    const path = await upload("limits.jpg", await encode.jpg(quadrants(40, 30)));
    const base = "image/resize,w_20";
    const atLimit = base + "/".repeat(REQUEST_LIMITS.processLength - base.length);
    expect((await process(path, atLimit)).status).toBe(200);
    const error = await ossError(await process(path, `${atLimit}/`));
    expect(error).toMatchObject({ status: 400, code: "InvalidArgument" });
    expect(error.message).toContain(String(REQUEST_LIMITS.processLength));
  });

  it("refuses chains longer than the action limit", async () => {
    const path = await upload("chain.jpg", await encode.jpg(quadrants(40, 30)));
    const chain = (count: number) => `image/${Array.from({ length: count }, () => "bright,1").join("/")}`;
    expect((await process(path, chain(REQUEST_LIMITS.actions))).status).toBe(200);
    expect(await ossError(await process(path, chain(REQUEST_LIMITS.actions + 1)))).toMatchObject({
      status: 400,
      code: "InvalidArgument",
    });
  });

  it("allows three watermarks and refuses a fourth, and text over 64 characters", async () => {
    const path = await upload("marks.jpg", await encode.jpg(quadrants(40, 30)));
    const marks = (count: number) => `image/${Array.from({ length: count }, () => textMark("a")).join("/")}`;
    expect(await ossError(await process(path, marks(4)))).toMatchObject({ code: "InvalidArgument" });
    expect(await ossError(await process(path, `image/${textMark("x".repeat(65))}`))).toMatchObject({
      code: "InvalidArgument",
    });
  });

  it("refuses object names with control characters or over 1,023 bytes", async () => {
    for (const key of ["a%00b.jpg", "line%0Abreak.jpg", "tab%09.jpg", "del%7F.jpg", "x".repeat(1024)]) {
      expect(await ossError(await request(`/demo/${key}`)), key).toMatchObject({
        status: 400,
        code: "InvalidObjectName",
      });
    }
    // 1,023 bytes is a valid name: the object is simply not there.
    expect(await ossError(await request(`/demo/${"x".repeat(1023)}`))).toMatchObject({ code: "NoSuchKey" });
  });

  it("answers RequestTimeout when a request outlives its deadline", async () => {
    // Decoding takes a while, then the watermark object is read: the deadline passes meanwhile.
    const path = await upload("slow.jpg", fixture("quadrants-12mp.jpg"));
    await put("slow-mark.png", await encode.png(quadrants(8, 8)));
    const mark = btoa("slow-mark.png").replaceAll("=", "");
    const context = createExecutionContext();
    const response = await worker.fetch(
      new Request(new URL(`${path}?x-oss-process=image/resize,w_400/watermark,image_${mark}`, ORIGIN)),
      { ...env, REQUEST_TIMEOUT_SECONDS: "0.001" },
      context,
    );
    await waitOnExecutionContext(context);
    expect(await ossError(response)).toMatchObject({ status: 400, code: "RequestTimeout" });
  });
});

describe("the deadline and ProcessObject", () => {
  it("saves nothing when the deadline passes during processing", async () => {
    const key = `slow-save-${Date.now()}.jpg`;
    await put(key, fixture("quadrants-12mp.jpg"));
    await put("slow-save-mark.png", await encode.png(quadrants(8, 8)));
    const target = `saved-too-late-${Date.now()}.jpg`;
    const body = `x-oss-process=image/resize,w_400/watermark,image_${btoa("slow-save-mark.png").replaceAll("=", "")}|sys/saveas,o_${btoa(target).replaceAll("=", "")}`;
    const init = await signedV1("POST", `/demo/${key}?x-oss-process`, {
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body,
    });
    const context = createExecutionContext();
    const response = await worker.fetch(
      new Request(new URL(`/demo/${key}?x-oss-process`, ORIGIN), init),
      { ...env, REQUEST_TIMEOUT_SECONDS: "0.001" },
      context,
    );
    await waitOnExecutionContext(context);
    expect(await ossError(response)).toMatchObject({ status: 400, code: "RequestTimeout" });
    expect(await env.DEMO.head(target)).toBeNull();

    // The same request within the default deadline saves the result.
    const saved = await request(
      `/demo/${key}?x-oss-process`,
      await signedV1("POST", `/demo/${key}?x-oss-process`, {
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body,
      }),
    );
    expect(saved.status, await saved.clone().text()).toBe(200);
    expect(await env.DEMO.head(target)).not.toBeNull();
  });
});

describe("observability", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("reports where a processed request's time went in Server-Timing", async () => {
    const path = await upload("timing.jpg", await encode.jpg(quadrants(400, 300)));
    const miss = await process(path, "image/resize,w_100/rotate,90/format,png");
    expect(miss.status).toBe(200);
    const stages = (response: Response) =>
      (response.headers.get("Server-Timing") ?? "").split(", ").map((entry) => entry.split(";")[0]);
    expect(stages(miss)).toEqual(["read", "cache", "decode", "resize", "rotate", "encode", "wasm"]);
    // The isolate's WebAssembly memory after the request, in MiB: at most the engine's 96.
    const wasm = Number(/wasm;desc="([\d.]+)"/.exec(miss.headers.get("Server-Timing") ?? "")?.[1]);
    expect(wasm).toBeGreaterThan(0);
    expect(wasm).toBeLessThanOrEqual(96);
    expect(miss.headers.get("Server-Timing")).toMatch(/^read;dur=\d+\.\d, cache;dur=\d+\.\d;desc="miss"/);

    let hit = await process(path, "image/resize,w_100/rotate,90/format,png");
    for (let i = 0; i < 20 && hit.headers.get("X-Cache") !== "HIT"; i++) {
      await hit.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, 50));
      hit = await process(path, "image/resize,w_100/rotate,90/format,png");
    }
    expect(hit.headers.get("X-Cache")).toBe("HIT");
    expect(hit.headers.get("Server-Timing")).toMatch(
      /^read;dur=\d+\.\d, cache;dur=\d+\.\d;desc="hit", wasm;desc="\d+\.\d"$/,
    );
  });

  it("logs JSON lines that carry the response's request id, without credentials", async () => {
    const lines: string[] = [];
    for (const method of ["log", "warn", "error"] as const) {
      vi.spyOn(console, method).mockImplementation((line: unknown) => {
        lines.push(String(line));
      });
    }
    const path = await upload("logged.jpg", await encode.jpg(quadrants(40, 30)));
    const ok = await process(path, "image/resize,w_20", {});
    await ok.arrayBuffer();
    const refused = await request(
      `${path}?x-oss-process=image/resize,w_20&OSSAccessKeyId=k&Signature=secret-sig&Expires=1`,
    );
    await refused.arrayBuffer();

    const records = lines.map((line) => JSON.parse(line));
    for (const response of [ok, refused]) {
      const id = response.headers.get("x-oss-request-id");
      const mine = records.filter((record) => record.requestId === id);
      expect(mine.some((record) => record.event === "request" && record.status === response.status)).toBe(
        true,
      );
    }
    expect(records.some((record) => record.event === "oss-error" && record.code === "AccessDenied")).toBe(
      true,
    );
    expect(lines.join("\n")).not.toContain("secret-sig");
    for (const record of records)
      expect(record).toMatchObject({ time: expect.any(String), level: expect.any(String) });
  });
});

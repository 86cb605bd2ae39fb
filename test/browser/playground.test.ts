// The playground page (/_playground) in a real browser: Debian's Chromium, headless, driven by
// playwright-core, against `wrangler dev` with PLAYGROUND=on (global-setup.ts).
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from "vitest";
import type { BrowserTestContext } from "./context";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

describe("playground", () => {
  let context: BrowserTestContext;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    context = inject("browser");
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  });

  afterAll(async () => {
    await browser?.close();
  });

  afterEach(async () => {
    await page?.close();
    expect(pageErrors, "errors thrown in the page").toEqual([]);
  });

  /** Opens the page, picks the photo and waits for its first result (the default process). */
  async function openWithPhoto(): Promise<void> {
    page = await browser.newPage();
    pageErrors = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(`${context.baseUrl}/_playground`);
    await page.waitForSelector("body[data-ready]");
    expect(await page.inputValue("#bucket")).toBe(context.bucket);
    await page.selectOption("#object", context.photo.key);
    await resultFor("image/resize,w_300");
    expect(await page.textContent("#original-dimensions")).toBe(
      `${context.photo.width} × ${context.photo.height}`,
    );
  }

  /** Waits until the result pane has finished loading `process` for the photo; fails on an error. */
  async function resultFor(process: string): Promise<void> {
    await page.waitForFunction(
      ([process, key]) => {
        const pane = document.getElementById("result");
        return (
          pane?.dataset.process === process &&
          pane.dataset.path?.includes(key) &&
          (pane.dataset.state === "loaded" || pane.dataset.state === "error")
        );
      },
      [process, context.photo.key],
    );
    const error = await page.textContent("#result-error");
    expect(await page.getAttribute("#result", "data-state"), error ?? "").toBe("loaded");
  }

  const naturalSize = () =>
    page.$eval("#result-img", (img) => [
      (img as HTMLImageElement).naturalWidth,
      (img as HTMLImageElement).naturalHeight,
    ]);

  const base64url = (text: string) => Buffer.from(text).toString("base64url");

  test("lists the bucket's images and resizes the photo to width 100", async () => {
    await openWithPhoto();
    const listed = await page.$$eval("#object option", (options) =>
      options.map((option) => (option as HTMLOptionElement).value),
    );
    expect(listed).toEqual([context.logo.key, context.photo.key]);
    await page.uncheck("#images-only");
    expect(await page.$$eval("#object option", (options) => options.length)).toBe(3);
    expect(await page.textContent(`#object option[value="${context.notImage.key}"]`)).toContain(
      context.notImage.key,
    );

    await page.fill("#resize-w", "100");
    expect(await page.inputValue("#process")).toBe("image/resize,w_100");
    await page.click("#apply");
    await resultFor("image/resize,w_100");

    expect(await naturalSize()).toEqual([100, 75]);
    expect(await page.textContent("#result-dimensions")).toBe("100 × 75");
    expect(await page.textContent("#result-status")).toMatch(/^200\b/);
    expect(await page.textContent("#result-type")).toBe("JPEG · image/jpeg");
    expect(await page.textContent("#result-bytes")).toMatch(/^[\d,]+ B/);
    expect(await page.textContent("#result-time")).toMatch(/^\d+ ms$/);
    const url = `${context.baseUrl}/${context.bucket}/${context.photo.key}?x-oss-process=image/resize,w_100`;
    expect(await page.textContent("#result-url")).toBe(url);
    expect(await page.textContent("#snippet")).toContain(
      `client.signatureUrl("${context.photo.key}", { process: "image/resize,w_100", expires: 600 })`,
    );
  });

  test("adds an image watermark from the same bucket, from the controls and from the text", async () => {
    await openWithPhoto();
    const loaded = page.waitForResponse((response) => response.url().includes("watermark,"));
    await page.selectOption("#watermark-image", context.logo.key);
    expect(await page.isChecked("#watermark-toggle")).toBe(true);
    const process = `image/resize,w_300/watermark,image_${base64url(context.logo.key)}`;
    expect(await page.inputValue("#process")).toBe(process);
    await page.click("#apply");
    const response = await loaded;
    expect(response.status()).toBe(200);
    await resultFor(process);
    expect(await page.textContent("#result-status")).toMatch(/^200\b/);
    expect(await naturalSize()).toEqual([300, 225]);

    // Typed text updates the controls it can represent: the decoded key and the embedded P_ scale.
    const scaled = base64url(`${context.logo.key}?x-oss-process=image/resize,P_20`);
    const typed = `image/resize,w_200/watermark,image_${scaled},g_center,t_80`;
    await page.fill("#process", typed);
    expect(await page.inputValue("#watermark-image")).toBe(context.logo.key);
    expect(await page.inputValue("#watermark-P")).toBe("20");
    expect(await page.inputValue("#watermark-g")).toBe("center");
    expect(await page.inputValue("#watermark-t")).toBe("80");
    expect(await page.inputValue("#resize-w")).toBe("200");
    await page.click("#apply");
    await resultFor(typed);
    expect(typed).toContain("watermark,");
    expect(await page.getAttribute("#result", "data-status")).toBe("200");
    expect(await naturalSize()).toEqual([200, 150]);

    // Text is UTF-8, then URL-safe Base64 without padding ("??>" would need "+" in plain Base64).
    await page.fill("#watermark-text", "OSS ??> 水印");
    const encoded = base64url("OSS ??> 水印");
    expect(encoded).toMatch(/^[\w-]+$/);
    expect(await page.inputValue("#process")).toBe(`${typed},text_${encoded}`);
    await page.fill("#process", `image/watermark,text_${base64url("typed")},size_20`);
    expect(await page.inputValue("#watermark-text")).toBe("typed");
    expect(await page.inputValue("#watermark-image")).toBe("");
    expect(await page.isChecked("#resize-toggle")).toBe(false);
  });

  test("converts the result to PNG", async () => {
    await openWithPhoto();
    const loaded = page.waitForResponse((response) => response.url().includes("format,png"));
    await page.selectOption("#format-value", "png");
    expect(await page.inputValue("#process")).toBe("image/resize,w_300/format,png");
    await page.click("#apply");
    const response = await loaded;
    expect(response.headers()["content-type"]).toBe("image/png");
    await resultFor("image/resize,w_300/format,png");
    expect(await page.textContent("#result-type")).toBe("PNG · image/png");
  });

  test("shows the Worker's errors readably", async () => {
    await openWithPhoto();
    await page.fill("#process", "image/resize,w_0");
    await page.click("#apply");
    await page.waitForSelector("#result[data-state=error]");
    expect(await page.textContent("#result-error strong")).toBe("400 InvalidArgument");
    expect(await page.textContent("#result-error p")).not.toBe("");
    expect(await page.isVisible("#result-img")).toBe(false);
  });

  test("slow load streams a progressive JPEG through the throttled endpoint", async () => {
    await openWithPhoto();
    await page.check("#interlace-toggle");
    expect(await page.inputValue("#process")).toBe("image/resize,w_300/interlace,1");
    const throttled = page.waitForResponse((response) =>
      response.url().includes("/_playground/api/throttled?"),
    );
    await page.check("#slow");
    const response = await throttled;
    expect(response.headers()["x-playground-throttle"]).toBe("2048 B every 100 ms");
    await resultFor("image/resize,w_300/interlace,1");
    expect(await page.getAttribute("#result-img", "src")).toContain("/_playground/api/throttled?path=");
    expect(await naturalSize()).toEqual([300, 225]);
    expect(await page.textContent("#result-type")).toBe("JPEG · image/jpeg");
    expect(await page.textContent("#result-time")).toMatch(/^\d+ ms \(slow load\)$/);
  });
});

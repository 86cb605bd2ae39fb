import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Env as WorkerEnv } from "../src/config";
import worker from "../src/index";
import { ORIGIN, ossError, request, uniqueKey } from "./helpers";
import { blocks, field, fields, signed } from "./object-api";

/** Puts empty objects under a fresh prefix and returns it (ending in `/`). */
async function tree(names: string[], store: R2Bucket = env.DEMO): Promise<string> {
  const prefix = uniqueKey("tree/");
  for (const name of names) await store.put(`${prefix}${name}`, new Uint8Array([name.length]));
  return prefix;
}

const NAMES = ["a.jpg", "b/1.jpg", "b/2.jpg", "b/3.jpg", "c.jpg", "d/x/1.jpg", "d/y.jpg", "e.jpg"];

async function list(query: Record<string, string | undefined>, bucket = "demo") {
  const response = await signed("GET", bucket, "", query);
  const xml = await response.text();
  expect(response.status, xml).toBe(200);
  expect(response.headers.get("Content-Type")).toBe("application/xml");
  return xml;
}

/** What each page lists, keys and common prefixes in order, following V1 NextMarker to the end. */
async function pagesV1(query: Record<string, string>): Promise<string[][]> {
  const pages: string[][] = [];
  let marker = "";
  for (let i = 0; i < 50; i++) {
    const xml = await list({ ...query, marker });
    pages.push(
      [...fields(xml, "Key"), ...blocks(xml, "CommonPrefixes").map((b) => field(b, "Prefix") ?? "")].sort(),
    );
    if (field(xml, "IsTruncated") !== "true") return pages;
    marker = field(xml, "NextMarker") ?? "";
  }
  throw new Error("the listing never ended");
}

describe("ListObjects (V1)", () => {
  it("lists a prefix with OSS's fields: Key, LastModified in ms-precision ISO form, ETag, Type, Size, Owner", async () => {
    const prefix = await tree(NAMES);
    const xml = await list({ prefix });
    expect(field(xml, "Name")).toBe("demo");
    expect(field(xml, "Prefix")).toBe(prefix);
    expect(field(xml, "Marker")).toBe("");
    expect(field(xml, "MaxKeys")).toBe("100");
    expect(field(xml, "IsTruncated")).toBe("false");
    expect(fields(xml, "Key")).toEqual(NAMES.map((name) => `${prefix}${name}`));
    const contents = blocks(xml, "Contents");
    expect(contents).toHaveLength(NAMES.length);
    const first = contents[0];
    expect(field(first, "LastModified")).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(field(first, "ETag")).toBe((await env.DEMO.head(`${prefix}a.jpg`))?.httpEtag);
    expect(field(first, "Size")).toBe("1");
    expect(field(first, "Type")).toBe("Normal");
    expect(field(first, "StorageClass")).toBe("Standard");
    expect(field(first, "ID")).toBeTruthy();
  });

  it("groups by delimiter into CommonPrefixes", async () => {
    const prefix = await tree(NAMES);
    const xml = await list({ prefix, delimiter: "/" });
    expect(fields(xml, "Key")).toEqual(["a.jpg", "c.jpg", "e.jpg"].map((name) => `${prefix}${name}`));
    expect(blocks(xml, "CommonPrefixes").map((b) => field(b, "Prefix"))).toEqual([
      `${prefix}b/`,
      `${prefix}d/`,
    ]);
    expect(field(xml, "Delimiter")).toBe("/");
  });

  it("pages by max-keys and marker, counting prefixes, and never repeats a prefix a page ended on", async () => {
    const prefix = await tree(NAMES);
    // Pages of 2: [a.jpg, b/] ends on the prefix b/; the next page must start after all of b/.
    const pages = await pagesV1({ prefix, delimiter: "/", "max-keys": "2" });
    const names = (list: string[]) => list.map((name) => name.slice(prefix.length));
    expect(pages.map(names)).toEqual([["a.jpg", "b/"], ["c.jpg", "d/"], ["e.jpg"]]);
    const firstPage = await list({ prefix, delimiter: "/", "max-keys": "2" });
    expect(field(firstPage, "NextMarker")).toBe(`${prefix}b/`);
    // Without a delimiter every key comes once, in order.
    const flat = await pagesV1({ prefix, "max-keys": "3" });
    expect(flat.flat().map((name) => name.slice(prefix.length))).toEqual(NAMES);
    expect(flat).toHaveLength(3);
  });

  it("URL-encodes names with encoding-type=url", async () => {
    const prefix = await tree(["space name.jpg", "中文/图.jpg", "amp&lt.jpg"]);
    const xml = await list({ prefix, delimiter: "/", "encoding-type": "url" });
    expect(field(xml, "EncodingType")).toBe("url");
    expect(field(xml, "Prefix")).toBe(encodeURIComponent(prefix));
    expect(fields(xml, "Key").map(decodeURIComponent)).toEqual([
      `${prefix}amp&lt.jpg`,
      `${prefix}space name.jpg`,
    ]);
    expect(blocks(xml, "CommonPrefixes").map((b) => decodeURIComponent(field(b, "Prefix") ?? ""))).toEqual([
      `${prefix}中文/`,
    ]);
    // Without it, names are XML-escaped text.
    const plain = await list({ prefix });
    expect(fields(plain, "Key")).toContain(`${prefix}amp&lt.jpg`);
  });
});

describe("ListObjectsV2 (list-type=2)", () => {
  it("pages with continuation tokens, KeyCount, start-after and fetch-owner", async () => {
    const prefix = await tree(NAMES);
    const seen: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < 10; page++) {
      const query: Record<string, string> = { "list-type": "2", prefix, delimiter: "/", "max-keys": "2" };
      if (token) query["continuation-token"] = token;
      const xml = await list(query);
      const names = [
        ...fields(xml, "Key"),
        ...blocks(xml, "CommonPrefixes").map((b) => field(b, "Prefix") ?? ""),
      ];
      expect(field(xml, "KeyCount")).toBe(String(names.length));
      expect(xml).not.toContain("<Owner>");
      if (token) expect(field(xml, "ContinuationToken")).toBe(token);
      seen.push(...names.sort());
      if (field(xml, "IsTruncated") !== "true") break;
      token = field(xml, "NextContinuationToken");
      expect(token).toBeTruthy();
    }
    expect(seen.map((name) => name.slice(prefix.length))).toEqual(["a.jpg", "b/", "c.jpg", "d/", "e.jpg"]);

    const after = await list({
      "list-type": "2",
      prefix,
      "start-after": `${prefix}d/y.jpg`,
      "fetch-owner": "true",
    });
    expect(fields(after, "Key")).toEqual([`${prefix}e.jpg`]);
    expect(field(after, "StartAfter")).toBe(`${prefix}d/y.jpg`);
    expect(field(blocks(after, "Owner")[0] ?? "", "ID")).toBeTruthy();
  });
});

describe("ListObjects access and errors", () => {
  it("refuses anonymous listing with 403 AccessDenied, private or public-read, unless the bucket opts in", async () => {
    const prefix = await tree(["secret.jpg"], env.DEMO_PRIVATE);
    for (const path of [
      `/demo-private/?prefix=${prefix}`,
      "/demo-private/?list-type=2",
      "/demo/",
      "/demo/?prefix=x",
    ]) {
      const response = await request(path);
      expect(await ossError(response)).toMatchObject({ status: 403, code: "AccessDenied" });
    }
    // A signed listing of the private bucket works.
    expect(fields(await list({ prefix }, "demo-private"), "Key")).toEqual([`${prefix}secret.jpg`]);

    // `anonymous_list = true` on a public-read bucket publishes its keys.
    const openEnv = {
      ...env,
      BUCKETS: {
        ...(env as unknown as WorkerEnv).BUCKETS,
        demo: { binding: "DEMO", acl: "public-read", anonymous_list: true },
      },
    };
    const ctx = createExecutionContext();
    const open = await worker.fetch(new Request(`${ORIGIN}/demo/?prefix=${prefix}`), openEnv, ctx);
    await waitOnExecutionContext(ctx);
    expect(open.status).toBe(200);
    await open.text();
  });

  it("answers bad parameters with 400 InvalidArgument", async () => {
    for (const query of [
      { "max-keys": "0" },
      { "max-keys": "1001" },
      { "max-keys": "ten" },
      { "encoding-type": "base64" },
      { "list-type": "3" },
      { "list-type": "2", "continuation-token": "%%%" },
      { "fetch-owner": "maybe", "list-type": "2" },
    ]) {
      const response = await signed("GET", "demo", "", query);
      expect(await ossError(response), JSON.stringify(query)).toMatchObject({
        status: 400,
        code: "InvalidArgument",
      });
    }
  });

  it("answers other bucket-level APIs 501 NotImplemented when signed, 403 when anonymous", async () => {
    expect(await ossError(await signed("GET", "demo", "", { acl: undefined }))).toMatchObject({
      status: 501,
      code: "NotImplemented",
    });
    expect(await ossError(await request("/demo/?acl"))).toMatchObject({ status: 403, code: "AccessDenied" });
    expect(await ossError(await signed("GET", "demo", "", { uploads: undefined }))).toMatchObject({
      status: 501,
    });
  });
});

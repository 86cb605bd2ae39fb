import type { QueryParam } from "../auth/canonical";
import type { BucketConfig } from "../config";
import { invalidArgument, OssError } from "../errors";
import { parseProcess } from "../process/parse";
import { checkStyleName, MAX_STYLES_PER_BUCKET, readStyle, styleKey } from "../styles";
import { escapeXml } from "./xml";

const XML_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

const xmlResponse = (body: string) =>
  new Response(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`, {
    headers: { "Content-Type": "application/xml" },
  });

function styleXml(name: string, content: string, object: R2Object): string {
  const time = object.uploaded.toUTCString();
  return `<Style><Name>${escapeXml(name)}</Name><Content>${escapeXml(content)}</Content><CreateTime>${time}</CreateTime><LastModifyTime>${time}</LastModifyTime></Style>`;
}

/** The style API (`/?style`, `/?style&styleName=<name>`): PutStyle, GetStyle, ListStyle, DeleteStyle. */
export async function styleApi(
  method: string,
  bucket: BucketConfig,
  params: readonly QueryParam[],
  styles: R2Bucket,
  request: Request,
): Promise<Response> {
  const name = params.find((param) => param.key === "styleName")?.value;
  if (method === "GET" && name === undefined) return listStyles(bucket, styles);
  if (name === undefined) throw new OssError("MissingArgument", "The styleName parameter is required.");
  checkStyleName(name);
  switch (method) {
    case "PUT":
      return putStyle(bucket, name, await request.text(), styles);
    case "GET": {
      const content = await readStyle(styles, bucket.name, name);
      const object = (await styles.head(styleKey(bucket.name, name))) as R2Object;
      return xmlResponse(styleXml(name, content, object));
    }
    case "DELETE":
      await styles.delete(styleKey(bucket.name, name));
      return new Response(null, { status: 204 });
    default:
      throw new OssError("MethodNotAllowed", `The method ${method} is not allowed for styles.`);
  }
}

async function putStyle(
  bucket: BucketConfig,
  name: string,
  body: string,
  styles: R2Bucket,
): Promise<Response> {
  const match = /<Content>([\s\S]*?)<\/Content>/.exec(body);
  if (!/<Style>/.test(body) || !match) {
    throw new OssError(
      "MalformedXML",
      "The XML you provided was not well-formed: <Style><Content> is required.",
    );
  }
  const content = match[1].replace(/&(\w+);/g, (entity, word) => XML_ENTITIES[word] ?? entity).trim();
  if (!content.startsWith("image/"))
    throw invalidArgument("A style's content must be image processing (image/...).");
  parseProcess(content);
  const existing = await styles.list({ prefix: `${bucket.name}/`, limit: MAX_STYLES_PER_BUCKET + 1 });
  const replaces = existing.objects.some((object) => object.key === styleKey(bucket.name, name));
  if (!replaces && existing.objects.length >= MAX_STYLES_PER_BUCKET) {
    throw invalidArgument(`A bucket may have at most ${MAX_STYLES_PER_BUCKET} styles.`);
  }
  await styles.put(styleKey(bucket.name, name), content);
  return new Response(null, { status: 200 });
}

async function listStyles(bucket: BucketConfig, styles: R2Bucket): Promise<Response> {
  const listed = await styles.list({ prefix: `${bucket.name}/`, limit: MAX_STYLES_PER_BUCKET });
  const entries = await Promise.all(
    listed.objects.map(async (object) => {
      const stored = await styles.get(object.key);
      return stored
        ? styleXml(object.key.slice(bucket.name.length + 1), (await stored.text()).trim(), object)
        : "";
    }),
  );
  return xmlResponse(`<StyleList>${entries.join("")}</StyleList>`);
}

import { OssError } from "../errors";

/** What a refusal looks at: the request's headers, and whether the write is a CopyObject. */
interface WriteRequest {
  readonly headers: Headers;
  readonly copy: boolean;
}

interface Refusal {
  readonly header: string;
  /** True when the header's value asks for something this service does not do. */
  readonly refuses: (value: string, request: WriteRequest) => boolean;
  /** Why, in the error message: what OSS would do with it that this service cannot. */
  readonly why: string;
}

const always = () => true;
const lower = (value: string) => value.trim().toLowerCase();

/**
 * Headers of writes (PUT, POST, DELETE) that name an OSS API or feature this service does not
 * implement. OSS acts on each of them; ignoring one would store something other than what the
 * client asked for (an object readable by the wrong people, a part written as a whole object…),
 * so the write is refused with 501 NotImplemented before anything is read or written.
 */
const REFUSALS: readonly Refusal[] = [
  {
    // UploadPartCopy. Without it a PUT would become a PutObject with an empty body.
    header: "x-oss-copy-source-range",
    refuses: always,
    why: "UploadPartCopy is not implemented",
  },
  {
    // PutSymlink: stored as a plain object it would read as empty instead of as its target.
    header: "x-oss-symlink-target",
    refuses: always,
    why: "symbolic links are not implemented",
  },
  {
    // Object tags are not stored. A copy with the default x-oss-tagging-directive (Copy) gets the
    // source's tags, of which there are none, so only Replace with tags asks for something.
    header: "x-oss-tagging",
    refuses: (value, { headers, copy }) =>
      value.trim() !== "" && (!copy || lower(headers.get("x-oss-tagging-directive") ?? "") === "replace"),
    why: "object tagging is not implemented",
  },
  {
    // Upload callbacks: OSS answers with the callback server's body, which never comes here.
    header: "x-oss-callback",
    refuses: always,
    why: "upload callbacks are not implemented",
  },
  {
    // Only bucket ACLs exist. Accepting `private` in a public-read bucket would leave the object
    // readable by anyone; `public-read` in a private bucket would leave it unreadable anonymously.
    header: "x-oss-object-acl",
    refuses: (value) => lower(value) !== "default",
    why: "object ACLs are not implemented; objects have their bucket's ACL (x-oss-object-acl: default)",
  },
  {
    // R2 stores every object like OSS Standard; IA, Archive and the cold classes (RestoreObject,
    // minimum storage durations, retrieval fees) do not exist here.
    header: "x-oss-storage-class",
    refuses: (value) => lower(value) !== "standard",
    why: "storage classes other than Standard are not implemented",
  },
  {
    // R2 encrypts every object at rest with AES-256, which is what AES256 asks for. KMS and SM4
    // need keys this service does not have.
    header: "x-oss-server-side-encryption",
    refuses: (value) => value.trim() !== "AES256",
    why: "server-side encryption other than AES256 (KMS, SM4) is not implemented",
  },
  {
    // The data encryption algorithm of KMS encryption (SM4).
    header: "x-oss-server-side-data-encryption",
    refuses: always,
    why: "KMS server-side encryption is not implemented",
  },
  {
    // A KMS customer master key.
    header: "x-oss-server-side-encryption-key-id",
    refuses: always,
    why: "KMS server-side encryption is not implemented",
  },
];

/** Throws 501 NotImplemented when a write's headers ask for a feature this service does not have. */
export function refuseUnimplementedWrite(headers: Headers, copy: boolean): void {
  for (const refusal of REFUSALS) {
    const value = headers.get(refusal.header);
    if (value !== null && refusal.refuses(value, { headers, copy })) {
      throw new OssError("NotImplemented", `The ${refusal.header} header: ${refusal.why}.`);
    }
  }
}

/** `x-oss-forbid-overwrite: true`: the write must fail with 409 FileAlreadyExists if the target exists. */
export const forbidsOverwrite = (headers: Headers) =>
  lower(headers.get("x-oss-forbid-overwrite") ?? "") === "true";

export const fileAlreadyExists = () =>
  new OssError("FileAlreadyExists", "The object you specified already exists and can not be overwritten.");

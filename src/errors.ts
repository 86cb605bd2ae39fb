/** OSS error codes this service answers with, and the HTTP status each one carries. */
const STATUS = {
  InvalidArgument: 400,
  MissingArgument: 400,
  BadRequest: 400,
  ImageTooLarge: 400,
  WatermarkError: 400,
  InvalidURI: 400,
  InvalidObjectName: 400,
  RequestTimeout: 400,
  InvalidRange: 416,
  AccessDenied: 403,
  SignatureDoesNotMatch: 403,
  InvalidAccessKeyId: 403,
  RequestTimeTooSkewed: 403,
  InvalidDigest: 400,
  MalformedXML: 400,
  EntityTooLarge: 400,
  EntityTooSmall: 400,
  IncompleteBody: 400,
  InvalidPart: 400,
  InvalidPartOrder: 400,
  InvalidEncodingType: 400,
  MissingContentLength: 411,
  NoSuchUpload: 404,
  NoSuchKey: 404,
  NoSuchBucket: 404,
  NoSuchStyle: 404,
  MethodNotAllowed: 405,
  FileAlreadyExists: 409,
  PreconditionFailed: 412,
  InternalError: 500,
  NotImplemented: 501,
} as const;

export type OssErrorCode = keyof typeof STATUS;

/**
 * The one error type of the service. Everything that goes wrong on purpose is an OssError;
 * the HTTP layer renders it as the OSS XML error body.
 */
export class OssError extends Error {
  readonly status: number;

  constructor(
    readonly code: OssErrorCode,
    message: string,
    /** OSS's fine-grained error code (`x-oss-ec`), where one is documented. */
    readonly ec?: string,
  ) {
    super(message);
    this.name = "OssError";
    this.status = STATUS[code];
  }
}

export const invalidArgument = (message: string, ec?: string) => new OssError("InvalidArgument", message, ec);
export const badRequest = (message: string, ec?: string) => new OssError("BadRequest", message, ec);
export const imageTooLarge = (message: string, ec?: string) => new OssError("ImageTooLarge", message, ec);

/** OCI error codes, each registered once with its HTTP status (distribution's errcode table). */
export const ociErrorStatus = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 415,
  TOOMANYREQUESTS: 429,
  RANGE_INVALID: 416,
  PAGINATION_NUMBER_INVALID: 400,
  UNAVAILABLE: 503,
} as const;

export type OciErrorCode = keyof typeof ociErrorStatus;

/** Base of every error a client may see; the HTTP layer turns it into the OCI error body. */
export class OciError extends Error {
  readonly code: OciErrorCode;
  readonly status: number;
  readonly detail: unknown;
  /** Extra response headers, e.g. `Range` on a 416 from an upload. */
  readonly headers: Record<string, string>;

  constructor(
    code: OciErrorCode,
    message: string,
    options: { detail?: unknown; status?: number; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = options.status ?? ociErrorStatus[code];
    this.detail = options.detail;
    this.headers = options.headers ?? {};
  }
}

export class BlobUnknownError extends OciError {
  constructor(digest: string) {
    super("BLOB_UNKNOWN", "blob unknown to registry", { detail: { digest } });
  }
}

export class BlobUploadUnknownError extends OciError {
  constructor(id: string) {
    super("BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", { detail: { uuid: id } });
  }
}

export class BlobUploadInvalidError extends OciError {
  constructor(message: string, headers?: Record<string, string>) {
    super("BLOB_UPLOAD_INVALID", message, { headers });
  }
}

export class DigestInvalidError extends OciError {
  constructor(message: string, digest?: string) {
    super("DIGEST_INVALID", message, { detail: digest ? { digest } : undefined });
  }
}

export class ManifestInvalidError extends OciError {
  constructor(message: string) {
    super("MANIFEST_INVALID", message);
  }
}

export class ManifestTooLargeError extends OciError {
  constructor(limit: number) {
    super("SIZE_INVALID", `manifest exceeds the limit of ${limit} bytes`, {
      status: 413,
      detail: { limit },
    });
  }
}

export class ManifestUnknownError extends OciError {
  constructor(reference: string, message = "manifest unknown to registry") {
    super("MANIFEST_UNKNOWN", message, { detail: { reference } });
  }
}

export class ManifestBlobUnknownError extends OciError {
  constructor(digest: string) {
    super("MANIFEST_BLOB_UNKNOWN", "manifest references a blob or manifest unknown to registry", {
      detail: { digest },
    });
  }
}

export class NameInvalidError extends OciError {
  constructor(name: string, reason: string) {
    super("NAME_INVALID", `invalid repository name: ${reason}`, { detail: { name } });
  }
}

export class NameUnknownError extends OciError {
  constructor(name: string) {
    super("NAME_UNKNOWN", "repository name not known to registry", { detail: { name } });
  }
}

export class TagInvalidError extends OciError {
  constructor(tag: string) {
    super("MANIFEST_INVALID", "invalid tag", { detail: { tag } });
  }
}

export class SizeInvalidError extends OciError {
  constructor(message: string) {
    super("SIZE_INVALID", message);
  }
}

export class RangeInvalidError extends OciError {
  constructor(message: string, headers?: Record<string, string>) {
    super("RANGE_INVALID", message, { headers });
  }
}

export class PaginationInvalidError extends OciError {
  constructor(value: string) {
    super("PAGINATION_NUMBER_INVALID", "invalid number of results requested", {
      detail: { n: value },
    });
  }
}

export class UnsupportedError extends OciError {
  constructor(message: string) {
    super("UNSUPPORTED", message);
  }
}

/** The one place an error becomes a response: the OCI error body, with the request id. */
import type { Context } from "hono";
import type { Logger } from "../log/index.ts";
import { OciError } from "../registry/index.ts";

const clientGone = new Set(["ECONNRESET", "ERR_STREAM_PREMATURE_CLOSE", "ABORT_ERR", "EPIPE"]);

export function ociErrorBody(code: string, message: string, detail: unknown, requestId: string) {
  const extra =
    detail && typeof detail === "object" ? detail : detail === undefined ? {} : { value: detail };
  return { errors: [{ code, message, detail: { ...extra, requestId } }] };
}

/** Hono's onError handler. */
export function handleError(error: Error, c: Context): Response {
  const log = c.get("log") as Logger | undefined;
  const requestId = (c.get("requestId") as string | undefined) ?? "";
  if (error instanceof OciError) {
    log?.debug({ code: error.code, message: error.message }, "request failed");
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
    return c.json(
      ociErrorBody(error.code, error.message, error.detail, requestId),
      error.status as 400,
    );
  }
  const code = (error as NodeJS.ErrnoException).code;
  if ((code && clientGone.has(code)) || error.name === "AbortError") {
    log?.info({ reason: error.message }, "client went away mid-request");
    return c.json(
      ociErrorBody("BLOB_UPLOAD_INVALID", "request body was cut short", undefined, requestId),
      400,
    );
  }
  log?.error({ err: error }, "unexpected error");
  return c.json(ociErrorBody("UNKNOWN", "internal server error", undefined, requestId), 500);
}

/**
 * Limits that hold under abuse: header size, small bodies outside the blob API, concurrent uploads
 * per client address, and request bodies that trickle in (slow loris). Blob and manifest bodies
 * have their own limits in the routes; everything here is about one client hogging the server.
 */
import type { IncomingMessage, Server } from "node:http";
import type { Socket } from "node:net";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { OciError } from "../registry/index.ts";
import { remoteAddress } from "./adapter/node.ts";
import { ociErrorBody } from "./errors.ts";
import type { HttpApp, HttpContext, HttpEnv } from "./types.ts";

export interface LimitsOptions {
  /** Largest request head (request line and headers), Node's `maxHeaderSize`. */
  maxHeaderBytes: number;
  /** Largest body outside `/v2/` (token forms, JSON API, inbox); blobs and manifests have their own. */
  maxApiBodyBytes: number;
  /** Upload requests (POST/PATCH/PUT under `/blobs/uploads/`) one client address may run at once. */
  maxConcurrentUploadsPerClient: number;
  /** A request body must bring `slowBodyMinBytes` every `slowBodySeconds`, or it is cut (0: off). */
  slowBodySeconds: number;
  slowBodyMinBytes: number;
}

export const defaultLimits: LimitsOptions = {
  maxHeaderBytes: 16 * 1024,
  maxApiBodyBytes: 1024 * 1024,
  maxConcurrentUploadsPerClient: 64,
  slowBodySeconds: 30,
  slowBodyMinBytes: 1024,
};

/** Seconds a client refused for too many concurrent uploads is told to wait. */
const uploadRetryAfterSeconds = 2;

const uploadPath = /\/blobs\/uploads(\/|$)/;

/** Registers the per-request limits; call before any route. */
export function registerLimits(
  app: HttpApp,
  limits: LimitsOptions,
  clientAddress: (c: HttpContext) => string | undefined = () => undefined,
): void {
  const small = bodyLimit({
    maxSize: limits.maxApiBodyBytes,
    onError: () => {
      throw new OciError("SIZE_INVALID", `request body exceeds ${limits.maxApiBodyBytes} bytes`, {
        status: 413,
        detail: { limit: limits.maxApiBodyBytes },
      });
    },
  });
  // `/v2/` bodies are streamed by the routes (blobs) or read with their own limit (manifests);
  // reading them here would consume the stream the upload needs.
  app.use(async (c, next) => {
    if (c.req.path === "/v2" || c.req.path.startsWith("/v2/")) return next();
    return small(c, next);
  });
  app.use("/v2/*", concurrentUploads(limits.maxConcurrentUploadsPerClient, clientAddress));
}

/** Counts upload requests in flight per client address; one too many is 429 with Retry-After. */
export function concurrentUploads(
  max: number,
  clientAddress: (c: HttpContext) => string | undefined,
): MiddlewareHandler<HttpEnv> {
  const inFlight = new Map<string, number>();
  return async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD" || !uploadPath.test(c.req.path)) {
      return next();
    }
    const address = clientAddress(c) ?? remoteAddress(c) ?? "unknown";
    const count = inFlight.get(address) ?? 0;
    if (count >= max) {
      throw new OciError("TOOMANYREQUESTS", `more than ${max} concurrent uploads from one client`, {
        headers: { "Retry-After": String(uploadRetryAfterSeconds) },
        detail: { limit: max },
      });
    }
    inFlight.set(address, count + 1);
    try {
      await next();
    } finally {
      const left = (inFlight.get(address) ?? 1) - 1;
      if (left > 0) inFlight.set(address, left);
      else inFlight.delete(address);
    }
  };
}

/** The Node server options these limits need (`maxHeaderSize`). */
export function serverLimitOptions(limits: LimitsOptions): { maxHeaderSize: number } {
  return { maxHeaderSize: limits.maxHeaderBytes };
}

/**
 * Socket-level limits: malformed or oversized request heads get an OCI error body instead of
 * Node's bare status line, and bodies that trickle in are cut.
 */
export function applyServerLimits(server: Server, limits: LimitsOptions): void {
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => {
    // Node's own rule: answer only if nothing of a response went out on this connection yet.
    if (error.code === "ECONNRESET" || !socket.writable || socket.bytesWritten > 0) {
      socket.destroy();
      return;
    }
    socket.end(clientErrorResponse(error.code));
  });
  if (limits.slowBodySeconds > 0) {
    server.on("request", (request: IncomingMessage) => watchBody(request, limits));
  }
}

function clientErrorResponse(code: string | undefined): string {
  const [status, reason, ociCode, message] =
    code === "HPE_HEADER_OVERFLOW"
      ? [431, "Request Header Fields Too Large", "SIZE_INVALID", "request headers too large"]
      : code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "Request Timeout", "UNAVAILABLE", "request headers took too long"]
        : [400, "Bad Request", "UNSUPPORTED", "malformed HTTP request"];
  const body = JSON.stringify(ociErrorBody(ociCode, message, undefined, ""));
  return (
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/**
 * Cuts a request whose body brings fewer than `slowBodyMinBytes` in a window while the server is
 * waiting for it (nothing buffered unread). What arrived stays: an upload cut this way resumes.
 */
function watchBody(request: IncomingMessage, limits: LimitsOptions): void {
  if (request.complete) return;
  const socket = request.socket;
  let seen = socket.bytesRead;
  const timer = setInterval(() => {
    if (request.complete || socket.destroyed) return stop();
    const read = socket.bytesRead;
    const starved = request.readableLength === 0;
    if (starved && read - seen < limits.slowBodyMinBytes) {
      stop();
      socket.destroy();
      return;
    }
    seen = read;
  }, limits.slowBodySeconds * 1000);
  timer.unref();
  const stop = () => clearInterval(timer);
  request.once("end", stop);
  request.once("close", stop);
}

/**
 * Raw HTTP for the crash harness: one connection per request (no pooled socket survives a kill),
 * bodies that may trickle in pieces, and a digest helper.
 */
import { createHash } from "node:crypto";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  /** A whole body, or pieces written one after another with `pauseMs` between them. */
  body?: Buffer | Buffer[];
  pauseMs?: number;
  timeoutMs?: number;
}

/** Thrown when the connection fails or drops (the server was killed, or is not up). */
export class ConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConnectionError";
  }
}

export function sha256(data: Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export function send(url: string, options: SendOptions = {}): Promise<Reply> {
  const pieces =
    options.body === undefined ? [] : Array.isArray(options.body) ? options.body : [options.body];
  const length = pieces.reduce((sum, piece) => sum + piece.length, 0);
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers["Content-Length"] ??= String(length);
  return new Promise<Reply>((resolve, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      reject(new ConnectionError(`${options.method ?? "GET"} ${url}: ${error.message}`));
    };
    const req = httpRequest(url, { method: options.method ?? "GET", headers, agent: false });
    req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error("timed out")));
    req.on("error", fail);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", fail);
      res.on("aborted", () => fail(new Error("response aborted")));
      res.on("end", () => {
        if (settled) return;
        settled = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
    });
    void (async () => {
      for (const [i, piece] of pieces.entries()) {
        if (req.destroyed) return;
        req.write(piece);
        if (options.pauseMs && i < pieces.length - 1) {
          await new Promise((r) => setTimeout(r, options.pauseMs));
        }
      }
      req.end();
    })();
  });
}

/** The OCI error code of a reply, or "" when the body is not an OCI error. */
export function errorCode(reply: Reply): string {
  try {
    const body = JSON.parse(reply.body.toString("utf8")) as { errors?: { code?: string }[] };
    return body.errors?.[0]?.code ?? "";
  } catch {
    return "";
  }
}

/** The upload offset a `Range: 0-<end>` reply announces (bytes held). */
export function uploadOffset(reply: Reply): number {
  const match = /^(?:bytes=)?0-(\d+)$/.exec(String(reply.headers.range ?? ""));
  if (!match) throw new Error(`no Range header in the upload reply (${reply.status})`);
  const end = Number(match[1]);
  // `0-0` means zero or one byte (the registry writes 0-0 for an empty upload, as distribution
  // does); take zero, and let a 416 on the next PATCH tell the difference.
  return end === 0 ? 0 : end + 1;
}

export function describe(reply: Reply): string {
  return `${reply.status} ${reply.body.toString("utf8").slice(0, 300)}`;
}

/**
 * The only place that knows about Node's HTTP objects. Blob bodies stay on Node streams (web
 * streams cost about half the throughput); without a Node server (route tests) it falls back to
 * the web Request/Response.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { PassThrough, Readable, type Writable } from "node:stream";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { Context } from "hono";
import type { Logger } from "../../log/index.ts";

interface NodeBindings {
  incoming?: IncomingMessage;
  outgoing?: ServerResponse;
}

function bindings(c: Context): NodeBindings {
  return (c.env ?? {}) as NodeBindings;
}

/** The request body as a Node stream, without buffering it. */
export function requestBody(c: Context): Readable {
  const { incoming } = bindings(c);
  if (incoming) return incoming;
  const body = c.req.raw.body;
  return body
    ? Readable.fromWeb(body as import("node:stream/web").ReadableStream)
    : Readable.from([]);
}

/** The peer's socket address. */
export function remoteAddress(c: Context): string | undefined {
  return bindings(c).incoming?.socket.remoteAddress;
}

/**
 * Sends a response whose body `write` produces straight onto the socket (blob downloads); HEAD
 * requests get the headers only. A failure after the headers went out cuts the connection, so a
 * client never takes a short body for a whole one.
 */
export async function sendBody(
  c: Context,
  status: number,
  headers: Record<string, string>,
  write: ((out: Writable) => Promise<void>) | undefined,
): Promise<Response> {
  const { outgoing } = bindings(c);
  const body = c.req.method === "HEAD" ? undefined : write;
  // Touching c.res here would make Hono rewrap RESPONSE_ALREADY_SENT and write headers twice.
  const all = { ...((c.get("baseHeaders") ?? {}) as Record<string, string>), ...headers };
  // Without a body (HEAD, 304) a plain Response is right; Hono rebuilds HEAD responses, which
  // would lose the already-sent marker of a response written straight to the socket.
  if (!outgoing || !body) {
    if (!body) return new Response(null, { status, headers: all });
    const pass = new PassThrough();
    body(pass).then(
      () => pass.end(),
      (error) => pass.destroy(error),
    );
    return new Response(Readable.toWeb(pass) as ReadableStream, { status, headers: all });
  }
  outgoing.writeHead(status, all);
  try {
    await body(outgoing);
  } catch (error) {
    outgoing.destroy();
    (c.get("log") as Logger | undefined)?.warn({ err: error }, "download cut short");
    return RESPONSE_ALREADY_SENT;
  }
  outgoing.end();
  return RESPONSE_ALREADY_SENT;
}

/** Reads a small body (a manifest) into memory, refusing more than `limit` bytes. */
export async function readLimited(
  c: Context,
  limit: number,
  tooLarge: () => Error,
): Promise<Uint8Array> {
  const declared = Number(c.req.header("content-length"));
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of requestBody(c)) {
    total += (chunk as Buffer).length;
    if (total > limit) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The request target exactly as the client sent it (before URL normalisation). */
export function rawPath(c: Context): string {
  return bindings(c).incoming?.url ?? new URL(c.req.url).pathname;
}

/** The status actually sent, also for responses written straight to the socket. */
export function sentStatus(c: Context): number {
  const { outgoing } = bindings(c);
  return outgoing?.headersSent ? outgoing.statusCode : c.res.status;
}

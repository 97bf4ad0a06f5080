/**
 * The only place that knows about Node's HTTP objects. Blob bodies stay on Node streams (web
 * streams cost about half the throughput); without a Node server (route tests) it falls back to
 * the web Request/Response.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { Context } from "hono";

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

/** Sends a stream as the response body; HEAD requests get the headers only. */
export function sendStream(
  c: Context,
  status: number,
  headers: Record<string, string>,
  stream: Readable | undefined,
): Response {
  const { outgoing } = bindings(c);
  const head = c.req.method === "HEAD";
  if (head || !stream) stream?.destroy();
  // Touching c.res here would make Hono rewrap RESPONSE_ALREADY_SENT and write headers twice.
  const all = { ...((c.get("baseHeaders") ?? {}) as Record<string, string>), ...headers };
  if (!outgoing) {
    const body = head || !stream ? null : (Readable.toWeb(stream) as ReadableStream);
    return new Response(body, { status, headers: all });
  }
  outgoing.writeHead(status, all);
  if (head || !stream) {
    outgoing.end();
    return RESPONSE_ALREADY_SENT;
  }
  stream.on("error", () => outgoing.destroy());
  outgoing.on("close", () => stream.destroy());
  stream.pipe(outgoing);
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

/** A raw HTTP client for OCI blob uploads, for the upload end-to-end tests. */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import type { Instance } from "../helpers/instance.ts";
import { sha256 } from "../helpers/oci-layout.ts";

export const MiB = 1024 * 1024;

export interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
}

export async function send(url: string | URL, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

export function describeReply(method: string, url: string | URL, reply: Reply): string {
  const headers = [...reply.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
  return `${method} ${url} -> ${reply.status}\n${headers}\n\n${reply.body.toString("utf8").slice(0, 500)}`;
}

/** Upload session helper: remembers the latest Location, as the spec tells clients to. */
export class Upload {
  base: string;
  location: URL;
  constructor(base: string, location: string) {
    this.base = base;
    this.location = new URL(location, base);
  }

  /** After a restart on the same port the same URL stays valid; `base` may still move. */
  rebase(base: string): void {
    this.base = base;
    const moved = new URL(this.location.pathname + this.location.search, base);
    this.location = moved;
  }

  track(reply: Reply): void {
    const location = reply.headers.get("location");
    if (location) this.location = new URL(location, this.base);
  }

  async status(): Promise<{ reply: Reply; end: number }> {
    const reply = await send(this.location);
    assert.equal(reply.status, 204, describeReply("GET", this.location, reply));
    this.track(reply);
    return { reply, end: rangeEnd(reply) };
  }

  async patch(data: Buffer, start: number): Promise<Reply> {
    const url = this.location;
    const reply = await send(url, {
      method: "PATCH",
      headers: {
        "Content-Type": "application/octet-stream",
        "Content-Length": String(data.length),
        "Content-Range": `${start}-${start + data.length - 1}`,
      },
      body: data,
    });
    if (reply.status === 202) this.track(reply);
    return reply;
  }

  async finish(digest: string, finalChunk?: Buffer): Promise<Reply> {
    const url = new URL(this.location);
    url.searchParams.set("digest", digest);
    return send(url, {
      method: "PUT",
      headers: {
        "Content-Type": "application/octet-stream",
        "Content-Length": String(finalChunk?.length ?? 0),
      },
      body: finalChunk ?? Buffer.alloc(0),
    });
  }
}

/** The inclusive end offset from a `Range: 0-<end>` header (-1 when nothing is stored yet). */
export function rangeEnd(reply: Reply): number {
  const range = reply.headers.get("range");
  assert.ok(range, "Range header present");
  const match = /^(?:bytes=)?0-(\d+)$/.exec(range);
  assert.ok(match, `Range header ${range} has the form 0-<end>`);
  return Number(match[1]);
}

export async function startUpload(instance: Instance, repo: string): Promise<Upload> {
  const url = `${instance.url}/v2/${repo}/blobs/uploads/`;
  const reply = await send(url, { method: "POST" });
  assert.equal(reply.status, 202, describeReply("POST", url, reply));
  const location = reply.headers.get("location");
  assert.ok(location, "POST returns a Location");
  return new Upload(instance.url, location);
}

/**
 * Starts a PATCH declaring `data.length` bytes, sends only `sendBytes` of them, waits, then
 * destroys the socket as a client losing its connection would. Resolves with the status of any
 * response the server sent before the cut (none is expected for an incomplete body).
 */
export function abortedPatch(url: URL, data: Buffer, start: number, sendBytes: number) {
  return new Promise<number | undefined>((resolve) => {
    let settled = false;
    const done = (status?: number) => {
      if (!settled) {
        settled = true;
        resolve(status);
      }
    };
    const req = httpRequest(url, {
      method: "PATCH",
      headers: {
        "Content-Type": "application/octet-stream",
        "Content-Length": String(data.length),
        "Content-Range": `${start}-${start + data.length - 1}`,
      },
    });
    req.on("error", () => done());
    req.on("response", (res) => {
      res.resume();
      done(res.statusCode);
    });
    req.write(data.subarray(0, sendBytes), () => {
      setTimeout(() => {
        req.destroy();
        done();
      }, 500);
    });
  });
}

/** Reads the upload status until two readings a little apart agree. */
export async function settledStatus(upload: Upload): Promise<number> {
  let previous = (await upload.status()).end;
  for (let i = 0; i < 25; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const current = (await upload.status()).end;
    if (current === previous) return current;
    previous = current;
  }
  return previous;
}

export async function verifyBlob(instance: Instance, repo: string, data: Buffer): Promise<void> {
  const digest = sha256(data);
  const url = `${instance.url}/v2/${repo}/blobs/${digest}`;
  const head = await send(url, { method: "HEAD" });
  assert.equal(head.status, 200, describeReply("HEAD", url, head));
  assert.equal(head.headers.get("content-length"), String(data.length));
  assert.equal(head.headers.get("docker-content-digest"), digest);

  const get = await send(url);
  assert.equal(get.status, 200, describeReply("GET", url, get));
  assert.equal(get.body.length, data.length);
  assert.equal(sha256(get.body), digest);
  assert.ok(get.body.equals(data));

  const partial = await send(url, { headers: { Range: "bytes=1000-1999" } });
  assert.equal(partial.status, 206, describeReply("GET (Range)", url, partial));
  assert.equal(partial.headers.get("content-range"), `bytes 1000-1999/${data.length}`);
  assert.ok(partial.body.equals(data.subarray(1000, 2000)));
}

export async function expectUploadGone(upload: Upload): Promise<void> {
  const reply = await send(upload.location);
  assert.equal(reply.status, 404, describeReply("GET", upload.location, reply));
  const body = JSON.parse(reply.body.toString("utf8")) as { errors: { code: string }[] };
  assert.equal(body.errors[0]?.code, "BLOB_UPLOAD_UNKNOWN");
}

/**
 * Blob uploads over raw HTTP against a real Flotilla process, following the OCI Distribution
 * Spec v1.1: monolithic and chunked uploads, out-of-order chunks, a client that disconnects in
 * the middle of a PATCH, and uploads that resume after the server stops (SIGTERM) or crashes
 * (SIGKILL) and starts again on the same data directory.
 */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { rm } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { type Instance, startInstance } from "../helpers/instance.ts";
import { randomBytes, sha256 } from "../helpers/oci-layout.ts";

const MiB = 1024 * 1024;

interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
}

async function send(url: string | URL, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

function describeReply(method: string, url: string | URL, reply: Reply): string {
  const headers = [...reply.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
  return `${method} ${url} -> ${reply.status}\n${headers}\n\n${reply.body.toString("utf8").slice(0, 500)}`;
}

/** Upload session helper: remembers the latest Location, as the spec tells clients to. */
class Upload {
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
function rangeEnd(reply: Reply): number {
  const range = reply.headers.get("range");
  assert.ok(range, "Range header present");
  const match = /^(?:bytes=)?0-(\d+)$/.exec(range);
  assert.ok(match, `Range header ${range} has the form 0-<end>`);
  return Number(match[1]);
}

async function startUpload(instance: Instance, repo: string): Promise<Upload> {
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
function abortedPatch(url: URL, data: Buffer, start: number, sendBytes: number) {
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
async function settledStatus(upload: Upload): Promise<number> {
  let previous = (await upload.status()).end;
  for (let i = 0; i < 25; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const current = (await upload.status()).end;
    if (current === previous) return current;
    previous = current;
  }
  return previous;
}

async function verifyBlob(instance: Instance, repo: string, data: Buffer): Promise<void> {
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

async function expectUploadGone(upload: Upload): Promise<void> {
  const reply = await send(upload.location);
  assert.equal(reply.status, 404, describeReply("GET", upload.location, reply));
  const body = JSON.parse(reply.body.toString("utf8")) as { errors: { code: string }[] };
  assert.equal(body.errors[0]?.code, "BLOB_UPLOAD_UNKNOWN");
}

describe("blob uploads over HTTP", { timeout: 300_000 }, () => {
  let instance: Instance;

  before(async () => {
    instance = await startInstance();
  });

  after(async () => {
    await instance?.dispose();
  });

  it("completes a single-POST upload, or POST then PUT where the registry asks for it", async () => {
    const data = randomBytes(300_000);
    const digest = sha256(data);
    const url = `${instance.url}/v2/e2e/uploads/blobs/uploads/?digest=${digest}`;
    const headers = {
      "Content-Type": "application/octet-stream",
      "Content-Length": String(data.length),
    };
    let reply = await send(url, { method: "POST", headers, body: data });
    if (reply.status === 202) {
      // The spec lets a registry ignore the body of a single POST and answer like a plain POST.
      const upload = new Upload(instance.url, reply.headers.get("location") ?? "");
      reply = await upload.finish(digest, data);
    }
    assert.equal(reply.status, 201, describeReply("POST", url, reply));
    assert.equal(reply.headers.get("docker-content-digest"), digest);
    assert.equal(
      new URL(reply.headers.get("location") ?? "", instance.url).pathname,
      `/v2/e2e/uploads/blobs/${digest}`,
    );
    await verifyBlob(instance, "e2e/uploads", data);
  });

  it("uploads in chunks, rejects an out-of-order chunk, and rejects a wrong digest", async () => {
    const data = randomBytes(3 * MiB + 333);
    const upload = await startUpload(instance, "e2e/uploads");

    let offset = 0;
    for (const size of [MiB, MiB + 100]) {
      const chunk = data.subarray(offset, offset + size);
      const reply = await upload.patch(chunk, offset);
      assert.equal(reply.status, 202, describeReply("PATCH", upload.location, reply));
      offset += size;
      assert.equal(rangeEnd(reply), offset - 1);
      assert.ok(reply.headers.get("location"));
    }
    assert.equal((await upload.status()).end, offset - 1);

    // A chunk that does not start where the last one ended is refused with 416.
    const skipped = await upload.patch(data.subarray(offset + 10, offset + 20), offset + 10);
    assert.equal(skipped.status, 416, describeReply("PATCH (gap)", upload.location, skipped));
    const overlap = await upload.patch(data.subarray(offset - 10, offset + 10), offset - 10);
    assert.equal(overlap.status, 416, describeReply("PATCH (overlap)", upload.location, overlap));
    assert.equal((await upload.status()).end, offset - 1, "rejected chunks change nothing");

    // A wrong digest on the closing PUT is DIGEST_INVALID and stores nothing under it.
    const wrong = sha256("something else");
    const bad = await upload.finish(wrong, data.subarray(offset));
    assert.equal(bad.status, 400, describeReply("PUT (wrong digest)", upload.location, bad));
    const error = JSON.parse(bad.body.toString("utf8")) as { errors: { code: string }[] };
    assert.equal(error.errors[0]?.code, "DIGEST_INVALID");
    const missing = await send(`${instance.url}/v2/e2e/uploads/blobs/${wrong}`, {
      method: "HEAD",
    });
    assert.equal(missing.status, 404);

    // The same bytes again, this time finished properly with the final chunk in the PUT.
    const again = await startUpload(instance, "e2e/uploads");
    const first = await again.patch(data.subarray(0, 2 * MiB), 0);
    assert.equal(first.status, 202, describeReply("PATCH", again.location, first));
    const done = await again.finish(sha256(data), data.subarray(2 * MiB));
    assert.equal(done.status, 201, describeReply("PUT", again.location, done));
    assert.equal(done.headers.get("docker-content-digest"), sha256(data));
    await verifyBlob(instance, "e2e/uploads", data);
    await expectUploadGone(again);
  });

  it("resumes after a client disconnect and after a server restart", async () => {
    const first = await startInstance({ keepData: true });
    const { dataDir, port } = first;
    let current: Instance = first;
    try {
      const data = randomBytes(5 * MiB + 4321);
      const chunk1 = MiB + 5;
      const chunk2End = 3 * MiB;
      const upload = await startUpload(current, "e2e/resume");

      const r1 = await upload.patch(data.subarray(0, chunk1), 0);
      assert.equal(r1.status, 202, describeReply("PATCH", upload.location, r1));
      assert.equal(rangeEnd(r1), chunk1 - 1);

      // The client declares the whole second chunk, sends half of it, and drops the connection.
      const half = Math.floor((chunk2End - chunk1) / 2);
      const early = await abortedPatch(
        upload.location,
        data.subarray(chunk1, chunk2End),
        chunk1,
        half,
      );
      assert.ok(
        early === undefined || early >= 400,
        `no success for an incomplete PATCH body (got ${early})`,
      );

      // The status tells where to go on from: everything up to the cut, or the last whole chunk.
      const end = await settledStatus(upload);
      assert.ok(
        end >= chunk1 - 1 && end <= chunk1 + half - 1,
        `resume offset ${end + 1} within [${chunk1}, ${chunk1 + half}]`,
      );
      const r2 = await upload.patch(data.subarray(end + 1, chunk2End), end + 1);
      assert.equal(r2.status, 202, describeReply("PATCH (resumed)", upload.location, r2));
      assert.equal(rangeEnd(r2), chunk2End - 1);

      // A clean stop (SIGTERM), and a new process on the same data directory and port.
      assert.equal(await current.stop(), 0, `clean exit on SIGTERM:\n${current.output()}`);
      current = await startInstance({ dataDir, port, keepData: true });
      upload.rebase(current.url);
      assert.equal((await upload.status()).end, chunk2End - 1, "offset survives a restart");

      const r3 = await upload.patch(data.subarray(chunk2End, 4 * MiB), chunk2End);
      assert.equal(r3.status, 202, describeReply("PATCH (after restart)", upload.location, r3));
      assert.equal(rangeEnd(r3), 4 * MiB - 1);

      // A crash (SIGKILL) after an acknowledged chunk loses nothing either.
      await current.kill();
      current = await startInstance({ dataDir, port, keepData: true });
      upload.rebase(current.url);
      assert.equal((await upload.status()).end, 4 * MiB - 1, "offset survives a crash");

      const done = await upload.finish(sha256(data), data.subarray(4 * MiB));
      assert.equal(done.status, 201, describeReply("PUT", upload.location, done));
      assert.equal(done.headers.get("docker-content-digest"), sha256(data));
      await verifyBlob(current, "e2e/resume", data);
      await expectUploadGone(upload);

      // And the committed blob is still there after one more restart.
      await current.stop();
      current = await startInstance({ dataDir, port, keepData: true });
      await verifyBlob(current, "e2e/resume", data);
    } finally {
      await current.dispose();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

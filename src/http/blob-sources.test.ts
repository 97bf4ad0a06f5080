/**
 * Pulls of blobs the registry lacks, fetched from a BlobSource while the client downloads them,
 * over a real socket: a wrong byte must cut the connection, never end a complete-looking body.
 */
import assert from "node:assert/strict";
import { access, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { BlobSource, BlobSourceRequest, Registry } from "../registry/index.ts";
import { listen, type RunningServer } from "./server.ts";
import {
  createTestRegistry,
  errorCode,
  type PushedManifest,
  pushBlob,
  pushImage,
  sha256,
  type TestRegistry,
} from "./test-support.ts";

/** A source that serves given bytes in pieces, optionally waiting at a gate after the first. */
class FakeSource implements BlobSource {
  readonly name: string;
  readonly bytes: Map<string, Uint8Array>;
  readonly requests: BlobSourceRequest[] = [];
  gate: Promise<void> | undefined;
  finished = false;

  constructor(name: string, bytes: Map<string, Uint8Array>) {
    this.name = name;
    this.bytes = bytes;
  }

  async open(request: BlobSourceRequest) {
    this.requests.push(request);
    const found = this.bytes.get(request.digest);
    if (!found) return undefined;
    const bytes = found;
    this.finished = false;
    const piece = Math.max(1, Math.ceil(bytes.length / 4));
    const gate = this.gate;
    const self = this;
    async function* stream() {
      for (let at = 0; at < bytes.length; at += piece) {
        yield bytes.subarray(at, at + piece);
        if (at === 0 && gate) await gate;
      }
      self.finished = true;
    }
    return { stream: stream(), size: bytes.length };
  }
}

/** Flips bytes in the middle: same length, wrong digest. */
function corrupt(bytes: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(bytes);
  const middle = Math.floor(copy.length / 2);
  copy[middle] = (copy[middle] as number) ^ 0xff;
  return copy;
}

function content(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

async function uploadsLeft(root: string): Promise<string[]> {
  return readdir(join(root, "uploads"));
}

function blobFile(root: string, digest: string): string {
  const hex = digest.slice("sha256:".length);
  return join(root, "blobs", "sha256", hex.slice(0, 2), hex);
}

async function stored(root: string, digest: string): Promise<boolean> {
  return access(blobFile(root, digest)).then(
    () => true,
    () => false,
  );
}

async function removeFile(root: string, digest: string): Promise<void> {
  await rm(blobFile(root, digest));
}

describe("blobs fetched from sources while the client downloads them", () => {
  let t: TestRegistry;
  let registry: Registry;
  let server: RunningServer;
  let base: string;
  const served = new Map<string, Uint8Array>();
  const bad = new Map<string, Uint8Array>();
  const badSource = new FakeSource("bad", bad);
  const goodSource = new FakeSource("good", served);

  before(async () => {
    t = await createTestRegistry();
    registry = t.registry;
    registry.blobs.addSource(badSource);
    registry.blobs.addSource(goodSource);
    server = await listen(t.app, {
      port: 0,
      host: "127.0.0.1",
      headersTimeoutSeconds: 30,
      idleTimeoutSeconds: 30,
    });
    base = `http://127.0.0.1:${server.port}`;
  });
  after(async () => {
    await server.close(1000);
  });

  /** Pushes a blob, then loses its file: linked here, bytes missing. */
  async function lostBlob(name: string, bytes: Uint8Array): Promise<string> {
    const { digest } = await pushBlob(t.app, name, bytes);
    await removeFile(t.root, digest);
    return digest;
  }

  it("restores a linked blob whose file is missing, and stores it", async () => {
    const bytes = content(300_000, 1);
    const digest = await lostBlob("a/restore", bytes);
    served.set(digest, bytes);
    const committed: string[] = [];
    const off = registry.events.on("blob.committed", (e) => {
      committed.push(e.digest);
    });
    const res = await fetch(`${base}/v2/a/restore/blobs/${digest}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-length"), String(bytes.length));
    assert.equal(sha256(new Uint8Array(await res.arrayBuffer())), digest);
    // Commit follows the last byte; a HEAD served from storage proves it happened.
    await waitFor(async () => committed.includes(digest));
    off();
    goodSource.bytes.delete(digest);
    const again = await fetch(`${base}/v2/a/restore/blobs/${digest}`);
    assert.equal(sha256(new Uint8Array(await again.arrayBuffer())), digest);
    assert.deepEqual(await uploadsLeft(t.root), []);
  });

  it("cuts the connection on wrong bytes, stores nothing, and a later pull gets good bytes", async () => {
    const bytes = content(200_000, 2);
    const digest = await lostBlob("a/wrong", bytes);
    bad.set(digest, corrupt(bytes));
    served.set(digest, bytes);
    const res = await fetch(`${base}/v2/a/wrong/blobs/${digest}`);
    assert.equal(res.status, 200, "headers go out before the bytes are known to be wrong");
    await assert.rejects(res.arrayBuffer(), "the body must not end cleanly");
    assert.equal(await stored(t.root, digest), false);
    await waitFor(async () => (await uploadsLeft(t.root)).length === 0);
    const headBefore = await fetch(`${base}/v2/a/wrong/blobs/${digest}`, { method: "HEAD" });
    // HEAD starts a fetch from the next source: the bad one is skipped for this digest now.
    assert.equal(headBefore.status, 200);
    const good = await fetch(`${base}/v2/a/wrong/blobs/${digest}`);
    assert.equal(good.status, 200);
    assert.equal(sha256(new Uint8Array(await good.arrayBuffer())), digest);
    assert.equal(badSource.requests.filter((r) => r.digest === digest).length, 1);
  });

  it("sends the first bytes before the source has finished", async () => {
    const bytes = content(400_000, 3);
    const digest = await lostBlob("a/slow", bytes);
    served.set(digest, bytes);
    const gate = Promise.withResolvers<void>();
    goodSource.gate = gate.promise;
    try {
      const res = await fetch(`${base}/v2/a/slow/blobs/${digest}`);
      assert.equal(res.status, 200);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const first = await reader.read();
      assert.ok(first.value && first.value.length > 0, "first bytes arrived");
      assert.equal(goodSource.finished, false, "the source is still held at its gate");
      gate.resolve();
      const parts = [first.value];
      for (;;) {
        const next = await reader.read();
        if (next.done) break;
        parts.push(next.value);
      }
      assert.equal(sha256(Buffer.concat(parts)), digest);
    } finally {
      goodSource.gate = undefined;
      gate.resolve();
    }
  });

  it("shares one fetch between concurrent pulls of the same blob", async () => {
    const bytes = content(500_000, 4);
    const digest = await lostBlob("a/shared", bytes);
    served.set(digest, bytes);
    const gate = Promise.withResolvers<void>();
    goodSource.gate = gate.promise;
    const before = goodSource.requests.length;
    try {
      const pulls = [1, 2, 3].map(() => fetch(`${base}/v2/a/shared/blobs/${digest}`));
      const first = await pulls[0];
      gate.resolve();
      const bodies = await Promise.all(
        [first, ...(await Promise.all(pulls.slice(1)))].map(async (res) => {
          assert.equal(res?.status, 200);
          return new Uint8Array(await (res as Response).arrayBuffer());
        }),
      );
      for (const body of bodies) assert.equal(sha256(body), digest);
      assert.equal(goodSource.requests.length - before, 1, "one fetch for three pulls");
    } finally {
      goodSource.gate = undefined;
      gate.resolve();
    }
  });

  it("fetches a blob a manifest refers to but the repository never linked, sized by the manifest", async () => {
    const image: PushedManifest = await pushImage(t.app, "a/mirror", { layerContent: "mirror" });
    const manifest = JSON.parse(Buffer.from(image.bytes).toString());
    const layer = manifest.layers[0] as { digest: string; size: number };
    const layerBytes = new TextEncoder().encode("layer:mirror");
    // Unlinked and gone: as a mirror holds a manifest whose blobs were never fetched.
    await fetch(`${base}/v2/a/mirror/blobs/${layer.digest}`, { method: "DELETE" });
    await removeFile(t.root, layer.digest);
    served.set(layer.digest, layerBytes);
    const res = await fetch(`${base}/v2/a/mirror/blobs/${layer.digest}`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "layer:mirror");
    const asked = goodSource.requests.findLast((r) => r.digest === layer.digest);
    assert.deepEqual(asked, { repository: "a/mirror", digest: layer.digest, size: layer.size });
    await waitFor(
      async () => (await t.meta.linkedBlobSize("a/mirror", layer.digest)) !== undefined,
    );
  });

  it("does not hand out another repository's bytes for a blob a manifest merely names", async () => {
    const image = await pushImage(t.app, "a/named", { layerContent: "named" });
    const layer = JSON.parse(Buffer.from(image.bytes).toString()).layers[0];
    await fetch(`${base}/v2/a/named/blobs/${layer.digest}`, { method: "DELETE" });
    // The bytes are still on disk (another repository may hold them), but no source has them.
    served.delete(layer.digest);
    assert.equal(await stored(t.root, layer.digest), true);
    const res = await fetch(`${base}/v2/a/named/blobs/${layer.digest}`);
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), "BLOB_UNKNOWN");
  });

  it("answers BLOB_UNKNOWN when no source has the blob, and for blobs nothing refers to", async () => {
    const digest = await lostBlob("a/nowhere", content(1000, 5));
    const res = await fetch(`${base}/v2/a/nowhere/blobs/${digest}`);
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), "BLOB_UNKNOWN");
    const before = goodSource.requests.length;
    const stranger = sha256("never pushed anywhere");
    const unknown = await fetch(`${base}/v2/a/nowhere/blobs/${stranger}`);
    assert.equal(unknown.status, 404);
    assert.equal(goodSource.requests.length, before, "sources are not asked for strangers");
  });

  it("serves a range of a missing blob once it is stored", async () => {
    const bytes = content(100_000, 6);
    const digest = await lostBlob("a/range", bytes);
    served.set(digest, bytes);
    const res = await fetch(`${base}/v2/a/range/blobs/${digest}`, {
      headers: { Range: "bytes=10-19" },
    });
    assert.equal(res.status, 206);
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), bytes.subarray(10, 20));
  });
});

describe("a source of unknown length", () => {
  it("streams chunked and cuts the connection when the digest does not match", async () => {
    const t = await createTestRegistry();
    const bytes = content(50_000, 7);
    const { digest } = await pushBlob(t.app, "b/chunked", bytes);
    await removeFile(t.root, digest);
    // The link says the size; take it away so neither side knows the length up front.
    await t.meta.unlinkBlob("b/chunked", digest);
    await t.meta.putManifest(
      { repository: "b/chunked", digest: sha256("unstored manifest"), mediaType: "m", size: 1 },
      [{ digest, kind: "blob" }],
    );
    let wrong = true;
    t.registry.blobs.addSource({
      name: "unsized",
      async open() {
        const body = wrong ? corrupt(bytes) : bytes;
        async function* stream() {
          yield body.subarray(0, 20_000);
          yield body.subarray(20_000);
        }
        return { stream: stream() };
      },
    });
    const server = await listen(t.app, {
      port: 0,
      host: "127.0.0.1",
      headersTimeoutSeconds: 30,
      idleTimeoutSeconds: 30,
    });
    try {
      const url = `http://127.0.0.1:${server.port}/v2/b/chunked/blobs/${digest}`;
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-length"), null);
      await assert.rejects(res.arrayBuffer());
      wrong = false;
      // The only source was marked bad for this digest: nothing left to ask.
      const next = await fetch(url);
      assert.equal(next.status, 404);
    } finally {
      await server.close(1000);
    }
  });
});

async function waitFor(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) assert.fail("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

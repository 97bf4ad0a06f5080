import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { identify } from "@libp2p/identify";
import type { Libp2p, Stream } from "@libp2p/interface";
import { noise } from "@libp2p/noise";
import { tcp } from "@libp2p/tcp";
import { lpStream } from "@libp2p/utils";
import { yamux } from "@libp2p/yamux";
import { multiaddr } from "@multiformats/multiaddr";
import { createLibp2p } from "libp2p";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import { silentLogger } from "../log/index.ts";
import { ZeroCopyBlockstore } from "./blockstore.ts";
import { digestLookupProtocol, InvalidDigestError } from "./digest-lookup.ts";
import { FsBlobRangeReader } from "./fs-range-reader.ts";
import { cidFromSha256Digest, importBlob } from "./importer.ts";
import { MemoryCidIndex } from "./memory-cid-index.ts";
import { createIpfsNode, type IpfsNode } from "./node.ts";
import { type TempBlobs, tempBlobs } from "./test-support.ts";

const MiB = 1 << 20;
const timeoutMs = 1500;
const unknownDigest = `sha256:${"ab".repeat(32)}`;

interface Side {
  node: IpfsNode;
  index: MemoryCidIndex;
  blobs: TempBlobs;
}

async function startSide(name: string, peers: string[]): Promise<Side> {
  const blobs = await tempBlobs();
  const index = new MemoryCidIndex();
  const blockstore = await ZeroCopyBlockstore.create(
    { index, blobs: new FsBlobRangeReader({ blobPath: blobs.blobPath }) },
    { fallbackDir: join(blobs.dir, "ipfs", "blocks") },
  );
  const node = await createIpfsNode({
    blockstore,
    datastoreDir: join(blobs.dir, "ipfs", `datastore-${name}`),
    listen: ["/ip4/127.0.0.1/tcp/0"],
    peers,
    logger: silentLogger(),
    resolveDigest: (digest) => index.rootOf(digest),
    digestLookupTimeoutMs: timeoutMs,
  });
  return { node, index, blobs };
}

async function stopSide(side: Side | undefined) {
  await side?.node.stop();
  await side?.blobs.remove();
}

async function importFile(side: Side, size: number, seed: string) {
  const digest = await side.blobs.write(size, seed);
  const dag = await importBlob(createReadStream(side.blobs.blobPath(digest)), size);
  await side.index.putImport(digest, dag);
  return { digest, dag };
}

async function sha256Of(source: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash("sha256");
  for await (const part of source) hash.update(part);
  return `sha256:${hash.digest("hex")}`;
}

async function timed<T>(work: Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await work;
  return [result, performance.now() - start];
}

/** A bare libp2p node, for playing a misbehaving peer. */
async function rawNode(): Promise<Libp2p> {
  return createLibp2p({
    addresses: { listen: ["/ip4/127.0.0.1/tcp/0"] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() },
  });
}

type Misbehaviour =
  | "garbage"
  | "huge"
  | "stall"
  | "not-a-cid"
  | "wrong-codec"
  | "wrong-hash"
  | "wrong-raw";

const wrongAnswers: Record<string, () => string> = {
  "not-a-cid": () => "\u00ffhello",
  // dag-cbor, sha2-256
  "wrong-codec": () =>
    CID.createV1(0x71, Digest.create(0x12, new Uint8Array(32).fill(1))).toString(),
  // dag-pb, sha2-512
  "wrong-hash": () =>
    CID.createV1(0x70, Digest.create(0x13, new Uint8Array(64).fill(2))).toString(),
  // raw, but not the block of the digest asked about
  "wrong-raw": () => cidFromSha256Digest(`sha256:${"cd".repeat(32)}`).toString(),
};

/** Answers every lookup the way `mode()` says, counting the questions it gets. */
async function hostileServer(mode: () => Misbehaviour) {
  const host = await rawNode();
  const state = { questions: 0 };
  await host.handle(digestLookupProtocol, async (stream: Stream) => {
    state.questions += 1;
    const current = mode();
    try {
      if (current === "stall") return; // never reads, never answers, never closes
      await lpStream(stream).read();
      if (current === "garbage") {
        stream.send(new Uint8Array(64).fill(0xff));
      } else if (current === "huge") {
        // Announces 10 MiB, then keeps sending.
        stream.send(Uint8Array.from([0x80, 0x80, 0x80, 0x05]));
        for (let i = 0; i < 64 && stream.status === "open"; i++) {
          if (!stream.send(new Uint8Array(64 * 1024).fill(7))) await stream.onDrain();
        }
      } else {
        await lpStream(stream).write(new TextEncoder().encode(wrongAnswers[current]?.()));
      }
      await stream.close();
    } catch {
      // The asker hung up on us, as it should.
    }
  });
  return { host, state, address: host.getMultiaddrs()[0]?.toString() as string };
}

describe("digest lookup between two nodes", () => {
  let a: Side;
  let b: Side;

  before(async () => {
    a = await startSide("a", []);
    b = await startSide("b", [a.node.multiaddrs()[0] as string]);
  });

  after(async () => {
    await stopSide(b);
    await stopSide(a);
  });

  it("finds the root CID a peer imported, and the fetched bytes match the digest", async () => {
    const { digest, dag } = await importFile(a, 3 * MiB + 5, "lookup");
    const root = await b.node.lookupDigest(digest);
    assert.ok(root, "B learns the root");
    assert.ok(root.equals(dag.cid));
    assert.equal(root.code, 0x70);
    assert.equal(await sha256Of(b.node.fetch(root)), digest);
  });

  it("finds the raw CID of a small blob", async () => {
    const { digest } = await importFile(a, 300_000, "small");
    const root = await b.node.lookupDigest(digest);
    assert.ok(root?.equals(cidFromSha256Digest(digest)));
  });

  it("answers undefined quickly when no peer knows the digest", async () => {
    const [root, ms] = await timed(b.node.lookupDigest(unknownDigest));
    assert.equal(root, undefined);
    assert.ok(ms < timeoutMs / 2, `took ${ms} ms`);
  });

  it("works in both directions and with many questions at once", async () => {
    const imported = await Promise.all([1, 2, 3].map((n) => importFile(b, 2 * MiB + n, `m${n}`)));
    const roots = await Promise.all(imported.map(({ digest }) => a.node.lookupDigest(digest)));
    roots.forEach((root, i) => {
      assert.ok(root?.equals(imported[i]?.dag.cid));
    });
  });

  it("rejects a malformed digest without asking anyone", async () => {
    for (const bad of [
      "sha256:xyz",
      `sha256:${"AB".repeat(32)}`,
      `sha512:${"ab".repeat(64)}`,
      `sha256:${"ab".repeat(32)}0`,
      `sha256:${"ab".repeat(5000)}`,
      "",
    ]) {
      await assert.rejects(b.node.lookupDigest(bad), InvalidDigestError);
    }
  });

  it("rejects when the caller aborts", async () => {
    const controller = new AbortController();
    controller.abort(new Error("caller gave up"));
    await assert.rejects(b.node.lookupDigest(unknownDigest, { signal: controller.signal }), {
      message: "caller gave up",
    });
  });

  it("lists its peers with their addresses", () => {
    const [peer, ...rest] = b.node.peersInfo();
    assert.equal(rest.length, 0);
    assert.equal(peer?.peerId, a.node.peerId);
    assert.match(peer?.remoteAddress ?? "", /^\/ip4\/127\.0\.0\.1\/tcp\/\d+/);
  });
});

describe("digest lookup with hostile peers", () => {
  let a: Side;
  let c: Side;
  let hostile: Awaited<ReturnType<typeof hostileServer>>;
  let mode: Misbehaviour = "stall";

  before(async () => {
    a = await startSide("a", []);
    hostile = await hostileServer(() => mode);
    c = await startSide("c", [hostile.address]);
  });

  after(async () => {
    await stopSide(c);
    await stopSide(a);
    await hostile?.host.stop();
  });

  for (const misbehaviour of Object.keys(wrongAnswers).concat("garbage", "huge")) {
    it(`ignores a peer that answers ${misbehaviour}, without waiting for the timeout`, async () => {
      mode = misbehaviour as Misbehaviour;
      const before = hostile.state.questions;
      const [root, ms] = await timed(c.node.lookupDigest(unknownDigest));
      assert.equal(root, undefined);
      assert.equal(hostile.state.questions, before + 1);
      assert.ok(ms < timeoutMs, `took ${ms} ms`);
    });
  }

  it("gives up on a peer that never answers, within the timeout", async () => {
    mode = "stall";
    const [root, ms] = await timed(c.node.lookupDigest(unknownDigest));
    assert.equal(root, undefined);
    assert.ok(ms >= timeoutMs - 50 && ms < timeoutMs + 1000, `took ${ms} ms`);
  });

  it("does not ask about a malformed digest", async () => {
    const before = hostile.state.questions;
    await assert.rejects(c.node.lookupDigest("sha256:nope"), InvalidDigestError);
    assert.equal(hostile.state.questions, before);
  });

  it("takes the honest peer's answer while a hostile one stalls or lies", async () => {
    await c.node.connect(a.node.multiaddrs()[0] as string);
    const { digest, dag } = await importFile(a, 2 * MiB, "honest");
    for (const misbehaviour of ["stall", "wrong-raw", "huge"] as const) {
      mode = misbehaviour;
      const [root, ms] = await timed(c.node.lookupDigest(digest));
      assert.ok(root?.equals(dag.cid), misbehaviour);
      assert.ok(ms < timeoutMs, `${misbehaviour} took ${ms} ms`);
    }
  });
});

describe("digest lookup server facing hostile askers", () => {
  let a: Side;
  let asker: Libp2p;

  before(async () => {
    a = await startSide("a", []);
    asker = await rawNode();
  });

  after(async () => {
    await asker?.stop();
    await stopSide(a);
  });

  const open = () => asker.dialProtocol(multiaddr(a.node.multiaddrs()[0]), digestLookupProtocol);
  const closed = (stream: Stream) =>
    new Promise<number>((resolve) => {
      const start = performance.now();
      if (stream.status !== "open") resolve(0);
      stream.addEventListener("close", () => resolve(performance.now() - start), { once: true });
    });

  it("drops garbage, oversized and malformed questions, and stalled askers", async () => {
    const garbage = await open();
    garbage.send(new Uint8Array(300).fill(0xff));
    const huge = await open();
    huge.send(Uint8Array.from([0x80, 0x80, 0x80, 0x05]));
    huge.send(new Uint8Array(4096).fill(1));
    const malformed = await open();
    await lpStream(malformed).write(new TextEncoder().encode("sha256:../../etc/passwd"));
    const stalled = await open();
    const waits = [garbage, huge, malformed, stalled].map(closed);
    const ms = await Promise.all(waits);
    for (const wait of ms) assert.ok(wait < timeoutMs + 1000, `closed after ${wait} ms`);
  });

  it("still answers honest questions afterwards", async () => {
    const { digest, dag } = await importFile(a, 2 * MiB + 9, "after");
    const stream = await open();
    const messages = lpStream(stream);
    await messages.write(new TextEncoder().encode(digest));
    await stream.close();
    const answer = new TextDecoder().decode((await messages.read()).subarray());
    assert.equal(answer, dag.cid.toString());
    const none = await open();
    const noneMessages = lpStream(none);
    await noneMessages.write(new TextEncoder().encode(unknownDigest));
    assert.equal((await noneMessages.read()).byteLength, 0, "empty means not found");
  });
});

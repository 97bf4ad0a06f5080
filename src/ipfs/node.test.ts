import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { CID } from "multiformats/cid";
import { silentLogger } from "../log/index.ts";
import { ZeroCopyBlockstore } from "./blockstore.ts";
import { FsBlobRangeReader } from "./fs-range-reader.ts";
import { cidFromSha256Digest, importBlob } from "./importer.ts";
import { MemoryCidIndex } from "./memory-cid-index.ts";
import { BlockUnavailableError, createIpfsNode, type IpfsNode } from "./node.ts";
import { type TempBlobs, tempBlobs } from "./test-support.ts";

const MiB = 1 << 20;

interface Side {
  node: IpfsNode;
  index: MemoryCidIndex;
  blobs: TempBlobs;
  fallbackDir: string;
}

async function startSide(
  name: string,
  peers: string[],
  options: { verifyReads?: boolean } = {},
): Promise<Side> {
  const blobs = await tempBlobs();
  const index = new MemoryCidIndex();
  const fallbackDir = join(blobs.dir, "ipfs", "blocks");
  const blockstore = await ZeroCopyBlockstore.create(
    { index, blobs: new FsBlobRangeReader({ blobPath: blobs.blobPath }) },
    { fallbackDir, verifyReads: options.verifyReads },
  );
  const node = await createIpfsNode({
    blockstore,
    datastoreDir: join(blobs.dir, "ipfs", `datastore-${name}`),
    listen: ["/ip4/127.0.0.1/tcp/0"],
    peers,
    publicNetwork: false,
    logger: silentLogger(),
    blockTimeoutMs: 3000,
  });
  return { node, index, blobs, fallbackDir };
}

async function importFile(side: Side, size: number, seed: string) {
  const digest = await side.blobs.write(size, seed);
  const dag = await importBlob(createReadStream(side.blobs.blobPath(digest)), size);
  await side.index.putImport(digest, dag);
  return { digest, dag };
}

async function sha256Of(source: AsyncIterable<Uint8Array>): Promise<[string, number]> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const part of source) {
    hash.update(part);
    size += part.length;
  }
  return [`sha256:${hash.digest("hex")}`, size];
}

async function filesUnder(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).length;
}

describe("IPFS node", () => {
  let a: Side;
  let b: Side;

  before(async () => {
    a = await startSide("a", []);
    const address = a.node.multiaddrs()[0] as string;
    assert.match(address, /\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3Koo/);
    b = await startSide("b", [address]);
  });

  after(async () => {
    await b?.node.stop();
    await a?.node.stop();
    await a?.blobs.remove();
    await b?.blobs.remove();
  });

  it("connects to its configured peers", () => {
    assert.deepEqual(b.node.peers(), [a.node.peerId]);
    assert.deepEqual(a.node.peers(), [b.node.peerId]);
    assert.notEqual(a.node.peerId, b.node.peerId);
  });

  it("fetches a multi-chunk blob from a peer over bitswap, byte for byte", async () => {
    const { digest, dag } = await importFile(a, 9 * MiB + 777, "multi");
    assert.equal(dag.leaves.length, 10);
    const [fetched, size] = await sha256Of(b.node.fetch(dag.cid));
    assert.equal(size, 9 * MiB + 777);
    assert.equal(fetched, digest);
    // Leaves passed through to the caller; only the dag-pb root was kept.
    assert.equal(await filesUnder(b.fallbackDir), 1);
  });

  it("fetches a single-block blob by the CID derived from its digest", async () => {
    const digest = await a.blobs.write(300_000, "single");
    const [fetched, size] = await sha256Of(b.node.fetch(cidFromSha256Digest(digest)));
    assert.equal(size, 300_000);
    assert.equal(fetched, digest);
  });

  it("sends a block again to a peer that wants it again (bitswap forgot it had sent it)", async () => {
    // B does not keep raw leaves it fetches for a caller, so a second fetch wants them again;
    // @helia/bitswap alone would drop that want and B would wait for its block timeout (3 s).
    const digest = await a.blobs.write(200_000, "wanted-twice");
    const cid = cidFromSha256Digest(digest);
    for (let round = 0; round < 3; round++) {
      const started = performance.now();
      const [fetched] = await sha256Of(b.node.fetch(cid));
      assert.equal(fetched, digest);
      assert.ok(performance.now() - started < 2500, `round ${round} answered at once`);
    }
  });

  it("reads its own blobs without the network", async () => {
    const { digest, dag } = await importFile(b, 2 * MiB + 1, "own");
    const [fetched] = await sha256Of(b.node.fetch(dag.cid));
    assert.equal(fetched, digest);
  });

  it("stops fetching when the signal aborts", async () => {
    const { dag } = await importFile(a, 4 * MiB, "abort");
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(sha256Of(b.node.fetch(dag.cid, { signal: controller.signal })));
  });
});

describe("IPFS node with a peer serving corrupted blocks", () => {
  let a: Side;
  let b: Side;

  before(async () => {
    // verifyReads off: A sends whatever its damaged blob file holds, as a bad peer would.
    a = await startSide("bad", [], { verifyReads: false });
    b = await startSide("b", [a.node.multiaddrs()[0] as string]);
  });

  after(async () => {
    await b?.node.stop();
    await a?.node.stop();
    await a?.blobs.remove();
    await b?.blobs.remove();
  });

  it("rejects a corrupted leaf: no corrupt bytes are returned or stored", async () => {
    const { digest, dag } = await importFile(a, 4 * MiB + 10, "corrupt");
    const handle = await open(a.blobs.blobPath(digest), "r+");
    await handle.write(Buffer.from("corrupt"), 0, 7, 2 * MiB + 100);
    await handle.close();

    const hash = createHash("sha256");
    let received = 0;
    await assert.rejects(async () => {
      for await (const part of b.node.fetch(dag.cid)) {
        hash.update(part);
        received += part.length;
      }
    }, BlockUnavailableError);
    // The two leaves before the damaged one arrived intact; nothing after it did.
    assert.equal(received, 2 * MiB);
    const good = createHash("sha256");
    const file = createReadStream(a.blobs.blobPath(digest), { start: 0, end: 2 * MiB - 1 });
    for await (const part of file) good.update(part as Buffer);
    assert.equal(hash.digest("hex"), good.digest("hex"));
    const leaf = dag.leaves[2]?.cid as CID;
    assert.equal(await filesUnder(b.fallbackDir), 1, "only the root node is kept");
    assert.ok(leaf);
  });
});

describe("IPFS node identity", () => {
  it("keeps its peer id across restarts with the same datastore", async () => {
    const first = await startSide("same", []);
    const peerId = first.node.peerId;
    await first.node.stop();
    const blockstore = await ZeroCopyBlockstore.create(
      { index: first.index, blobs: new FsBlobRangeReader({ blobPath: first.blobs.blobPath }) },
      { fallbackDir: first.fallbackDir },
    );
    const again = await createIpfsNode({
      blockstore,
      datastoreDir: join(first.blobs.dir, "ipfs", "datastore-same"),
      listen: ["/ip4/127.0.0.1/tcp/0"],
      logger: silentLogger(),
    });
    try {
      assert.equal(again.peerId, peerId);
    } finally {
      await again.stop();
      await first.blobs.remove();
    }
  });
});

import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as dagPb from "@ipld/dag-pb";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import * as Digest from "multiformats/hashes/digest";
import { sha256 } from "multiformats/hashes/sha2";
import { BlockHashMismatchError, blockMatches, ZeroCopyBlockstore } from "./blockstore.ts";
import { FsBlobRangeReader } from "./fs-range-reader.ts";
import { cidFromSha256Digest, importBlob } from "./importer.ts";
import { MemoryCidIndex } from "./memory-cid-index.ts";
import { patternBytes, type TempBlobs, tempBlobs } from "./test-support.ts";
import type { ImportedDag } from "./types.ts";

const MiB = 1 << 20;

async function bytesOf(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

async function rawCid(bytes: Uint8Array): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(bytes));
}

describe("ZeroCopyBlockstore", () => {
  let blobs: TempBlobs;
  let index: MemoryCidIndex;
  let store: ZeroCopyBlockstore;
  let fallbackDir: string;
  let bigDigest: string;
  let big: ImportedDag;
  let importMiBps = 0;

  before(async () => {
    blobs = await tempBlobs();
    index = new MemoryCidIndex();
    fallbackDir = join(blobs.dir, "ipfs-blocks");
    store = await ZeroCopyBlockstore.create(
      { index, blobs: new FsBlobRangeReader({ blobPath: blobs.blobPath }) },
      { fallbackDir },
    );
    const size = 64 * MiB;
    bigDigest = await blobs.write(size, "big");
    const started = performance.now();
    big = await importBlob(
      createReadStream(blobs.blobPath(bigDigest), { highWaterMark: MiB }),
      size,
    );
    const seconds = (performance.now() - started) / 1000;
    await index.putImport(bigDigest, big);
    importMiBps = size / MiB / seconds;
  });

  after(async () => {
    await blobs.remove();
  });

  it("stores less than 1% of a 64 MiB blob besides the blob itself", async (t) => {
    const extra = index.storedBytes() + (await treeBytes(fallbackDir));
    t.diagnostic(`import ${importMiBps.toFixed(0)} MiB/s; overhead ${extra} bytes`);
    assert.equal(big.leaves.length, 64);
    assert.ok(extra < 0.01 * 64 * MiB, `overhead ${extra} bytes`);
    assert.ok(extra < 16 * 1024, `overhead ${extra} bytes`);
    assert.equal(await treeBytes(fallbackDir), 0);
  });

  it("serves every leaf as its byte range of the blob file, in one piece", async () => {
    const handle = await open(blobs.blobPath(bigDigest), "r");
    try {
      for (const leaf of big.leaves) {
        const pieces: Uint8Array[] = [];
        for await (const piece of store.get(leaf.cid)) pieces.push(piece);
        assert.equal(pieces.length, 1);
        const expected = Buffer.alloc(leaf.length);
        await handle.read(expected, 0, leaf.length, leaf.offset);
        assert.deepEqual(Buffer.from(pieces[0] as Uint8Array), expected);
        assert.ok(await store.has(leaf.cid));
      }
    } finally {
      await handle.close();
    }
  });

  it("serves the dag-pb root from the index", async () => {
    const rootBytes = await bytesOf(store.get(big.cid));
    assert.ok(blockMatches(big.cid, rootBytes));
    assert.equal(dagPb.decode(rootBytes).Links.length, 64);
    assert.ok(await store.isLocal(big.cid));
  });

  it("serves a blob of at most 1 MiB as its own raw block, with no index entry", async () => {
    const digest = await blobs.write(MiB, "small");
    const cid = cidFromSha256Digest(digest);
    assert.ok(await store.has(cid));
    const bytes = await bytesOf(store.get(cid));
    assert.equal(bytes.length, MiB);
    assert.ok(blockMatches(cid, bytes));
    const larger = await blobs.write(MiB + 1, "larger");
    assert.equal(await store.has(cidFromSha256Digest(larger)), false);
  });

  it("keeps a verified block from a peer in the fallback store", async () => {
    const block = patternBytes(1000, "foreign");
    const cid = await rawCid(block);
    assert.equal(await store.has(cid), false);
    await store.put(cid, block);
    assert.ok(await store.has(cid));
    assert.equal(await store.isLocal(cid), false);
    assert.deepEqual(await bytesOf(store.get(cid)), Buffer.from(block));
    await store.delete(cid);
    assert.equal(await store.has(cid), false);
  });

  it("refuses a block that does not match its CID, and stores nothing", async () => {
    const block = patternBytes(1000, "claimed");
    const cid = await rawCid(block);
    const wrong = Buffer.from(block);
    wrong[10] = (wrong[10] as number) ^ 1;
    await assert.rejects(store.put(cid, wrong), BlockHashMismatchError);
    assert.equal(await store.has(cid), false);
  });

  it("checks but keeps nothing of a transient block", async () => {
    const block = patternBytes(1000, "transient");
    const cid = await rawCid(block);
    await store.put(cid, block, { transient: true });
    assert.equal(await store.has(cid), false);
    await assert.rejects(store.put(cid, new Uint8Array(3), { transient: true }));
  });

  it("refuses to serve a leaf whose blob changed on disk", async () => {
    const digest = await blobs.write(3 * MiB, "to-corrupt");
    const dag = await importBlob(createReadStream(blobs.blobPath(digest)), 3 * MiB);
    await index.putImport(digest, dag);
    const handle = await open(blobs.blobPath(digest), "r+");
    await handle.write(Buffer.from([0xff, 0x00, 0xff]), 0, 3, MiB + 5);
    await handle.close();
    const second = dag.leaves[1]?.cid as CID;
    await assert.rejects(bytesOf(store.get(second)), BlockHashMismatchError);
    await bytesOf(store.get(dag.leaves[0]?.cid as CID));

    const trusting = new ZeroCopyBlockstore(
      {
        index,
        blobs: new FsBlobRangeReader({ blobPath: blobs.blobPath }),
        fallback: store,
      },
      { verifyReads: false },
    );
    assert.equal((await bytesOf(trusting.get(second))).length, MiB);
  });

  it("throws NotFoundError for a block it does not have", async () => {
    const cid = CID.createV1(raw.code, Digest.create(sha256.code, new Uint8Array(32)));
    await assert.rejects(bytesOf(store.get(cid)), { name: "NotFoundError" });
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as dagPb from "@ipld/dag-pb";
import { UnixFS } from "ipfs-unixfs";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { blockMatches } from "./blockstore.ts";
import { fetchFile, MalformedDagError, NotAFileError } from "./fetch.ts";
import { importBlob } from "./importer.ts";
import { patternBytes, unevenPieces } from "./test-support.ts";
import type { ImportedDag } from "./types.ts";

const layout = { chunkSize: 64, maxLinksPerNode: 4 };

/** An in-memory block source over an import, counting the most blocks requested at once. */
function blocksOf(bytes: Buffer, dag: ImportedDag) {
  const blocks = new Map<string, Uint8Array>();
  for (const node of dag.nodes) blocks.set(String(node.cid), node.bytes);
  for (const leaf of dag.leaves) {
    blocks.set(String(leaf.cid), bytes.subarray(leaf.offset, leaf.offset + leaf.length));
  }
  if (dag.leaves.length === 0) blocks.set(String(dag.cid), bytes);
  const stats = { inFlight: 0, maxInFlight: 0, requested: 0 };
  const get = async (cid: CID) => {
    stats.requested++;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    stats.inFlight--;
    const block = blocks.get(String(cid));
    if (!block) throw new Error(`no block ${cid}`);
    assert.ok(blockMatches(cid, block));
    return block;
  };
  return { blocks, get, stats };
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}

describe("fetchFile", () => {
  it("reads a three-level DAG in order with a bounded number of blocks in flight", async () => {
    const bytes = patternBytes(64 * 4 ** 3 + 100, "deep");
    const dag = await importBlob(unevenPieces(bytes), bytes.length, { layout });
    const source = blocksOf(bytes, dag);
    const out = await collect(fetchFile(source.get, dag.cid, { window: 3 }));
    assert.deepEqual(out, bytes);
    assert.equal(source.stats.requested, dag.leaves.length + dag.nodes.length);
    // One window per level of the tree that is being read at the same time.
    assert.ok(source.stats.maxInFlight <= 3 * 4, `max in flight ${source.stats.maxInFlight}`);
  });

  it("reads a raw single-block file", async () => {
    const bytes = patternBytes(50, "raw");
    const dag = await importBlob(unevenPieces(bytes), bytes.length, { layout });
    const out = await collect(fetchFile(blocksOf(bytes, dag).get, dag.cid));
    assert.deepEqual(out, bytes);
  });

  it("refuses a DAG whose node claims more bytes than its children hold", async () => {
    const bytes = patternBytes(200, "lying");
    const dag = await importBlob(unevenPieces(bytes), bytes.length, { layout });
    const source = blocksOf(bytes, dag);
    const root = dagPb.decode(dag.nodes.at(-1)?.bytes as Uint8Array);
    const lying = dagPb.encode({
      Links: root.Links,
      Data: new UnixFS({ type: "file", blockSizes: [64n, 64n, 64n, 9n] }).marshal(),
    });
    const lyingCid = CID.createV1(dagPb.code, await sha256.digest(lying));
    source.blocks.set(String(lyingCid), lying);
    await assert.rejects(collect(fetchFile(source.get, lyingCid)), MalformedDagError);
  });

  it("refuses a directory", async () => {
    const dir = dagPb.encode({ Links: [], Data: new UnixFS({ type: "directory" }).marshal() });
    const cid = CID.createV1(dagPb.code, await sha256.digest(dir));
    await assert.rejects(collect(fetchFile(async () => dir, cid)), NotAFileError);
  });

  it("stops requesting blocks when the consumer stops early", async () => {
    const bytes = patternBytes(64 * 40, "early");
    const dag = await importBlob(unevenPieces(bytes), bytes.length, { layout });
    const source = blocksOf(bytes, dag);
    for await (const _ of fetchFile(source.get, dag.cid, { window: 2 })) break;
    assert.ok(source.stats.requested < 10, `requested ${source.stats.requested}`);
  });
});

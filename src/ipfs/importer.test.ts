import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import * as dagPb from "@ipld/dag-pb";
import { UnixFS } from "ipfs-unixfs";
import { importer } from "ipfs-unixfs-importer";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { balanced } from "ipfs-unixfs-importer/layout";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import * as Digest from "multiformats/hashes/digest";
import { sha256 } from "multiformats/hashes/sha2";
import {
  chunkSize,
  cidFromSha256Digest,
  dagOfLeaves,
  ImportSizeError,
  importBlob,
  sha256DigestOfRawCid,
} from "./importer.ts";
import { patternBytes, unevenPieces } from "./test-support.ts";

const MiB = 1 << 20;

/** The reference implementation (Helia's importer) with the `unixfs-v1-2025` settings. */
async function referenceCid(
  bytes: Uint8Array,
  layout = { chunkSize, maxLinksPerNode: 1024 },
): Promise<string> {
  const blocks = { put: async (cid: CID) => cid };
  let root: CID | undefined;
  for await (const entry of importer([{ content: bytes }], blocks, {
    cidVersion: 1,
    rawLeaves: true,
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize: layout.chunkSize }),
    layout: balanced({ maxChildrenPerNode: layout.maxLinksPerNode }),
  })) {
    root = entry.cid;
  }
  return String(root);
}

function sha256Cid(code: number, bytes: Uint8Array): CID {
  return CID.createV1(
    code,
    Digest.create(sha256.code, createHash("sha256").update(bytes).digest()),
  );
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

describe("importBlob", () => {
  it("gives a blob of 1 MiB or less the raw CID of its own sha256 (published fixture)", async () => {
    // `echo hello | ipfs add --cid-version 1` (Kubo's gateway fixtures)
    const hello = Buffer.from("hello\n");
    const dag = await importBlob(once(hello), hello.length);
    assert.equal(String(dag.cid), "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am");
    assert.deepEqual(dag.leaves, []);
    assert.deepEqual(dag.nodes, []);
    const digest = `sha256:${createHash("sha256").update(hello).digest("hex")}`;
    assert.equal(String(cidFromSha256Digest(digest)), String(dag.cid));
    assert.equal(sha256DigestOfRawCid(dag.cid), digest);
  });

  it("imports exactly 1 MiB as one raw block, as the reference importer does", async () => {
    const bytes = patternBytes(MiB, "one-mib");
    const dag = await importBlob(unevenPieces(bytes), bytes.length);
    assert.equal(String(dag.cid), String(sha256Cid(raw.code, bytes)));
    assert.equal(String(dag.cid), await referenceCid(bytes));
    assert.match(String(dag.cid), /^bafkrei/);
  });

  it("imports the empty blob as the empty raw block", async () => {
    const dag = await importBlob(once(new Uint8Array(0)), 0);
    assert.equal(String(dag.cid), "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
    assert.equal(String(dag.cid), await referenceCid(new Uint8Array(0)));
  });

  it("builds 3 MiB + 1 byte as a dag-pb root over four raw leaves (hand-built root)", async () => {
    const bytes = patternBytes(3 * MiB + 1, "three-mib-plus-one");
    const dag = await importBlob(unevenPieces(bytes), bytes.length);

    const parts = [0, 1, 2, 3].map((i) =>
      bytes.subarray(i * MiB, Math.min((i + 1) * MiB, bytes.length)),
    );
    const rootBytes = dagPb.encode({
      Data: new UnixFS({ type: "file", blockSizes: parts.map((p) => BigInt(p.length)) }).marshal(),
      Links: parts.map((p) => ({ Hash: sha256Cid(raw.code, p), Name: "", Tsize: p.length })),
    });
    const expected = sha256Cid(dagPb.code, rootBytes);

    assert.equal(String(dag.cid), String(expected));
    assert.equal(String(dag.cid), await referenceCid(bytes));
    assert.equal(String(dag.cid), "bafybeiagcqfudepecpx2oazilbnoukeolfbyk77a7dfcdjqnqscy6qubxq");
    assert.deepEqual(
      dag.leaves.map((leaf) => [String(leaf.cid), leaf.offset, leaf.length]),
      parts.map((p, i) => [String(sha256Cid(raw.code, p)), i * MiB, p.length]),
    );
    assert.equal(dag.nodes.length, 1);
    assert.deepEqual(dag.nodes[0]?.bytes, rootBytes);
  });

  it("matches the reference importer on a 5 MiB + 12345 byte blob", async () => {
    const bytes = patternBytes(5 * MiB + 12345, "five");
    const dag = await importBlob(unevenPieces(bytes), bytes.length);
    assert.equal(String(dag.cid), await referenceCid(bytes));
    // Pinned so a change of either implementation (or of the test pattern) shows up here.
    assert.equal(String(dag.cid), "bafybeib43mmwch6v7xezv42ttfgule2jp3milrkie47sn7mlcwoexw5krq");
    assert.equal(dag.leaves.length, 6);
  });

  it("matches the reference balanced layout on multi-level trees (small chunks and fan-out)", async () => {
    const layout = { chunkSize: 16, maxLinksPerNode: 4 };
    const sizes = [1, 16, 17, 64, 65, 256, 257, 16 * 16 + 15, 1024, 1025, 16 * 4 ** 4 + 3, 5000];
    for (const size of sizes) {
      const bytes = patternBytes(size, `small-${size}`);
      const dag = await importBlob(unevenPieces(bytes), size, { layout });
      assert.equal(String(dag.cid), await referenceCid(bytes, layout), `size ${size}`);
      assert.equal(dag.leaves.length, size <= 16 ? 0 : Math.ceil(size / 16), `leaves of ${size}`);
      assert.equal(
        String(dag.nodes.at(-1)?.cid ?? dag.cid),
        String(dag.cid),
        `root last (${size})`,
      );
    }
  });

  it("rejects a stream that is shorter or longer than the stated size", async () => {
    const bytes = patternBytes(2 * MiB, "sizes");
    await assert.rejects(importBlob(once(bytes), 2 * MiB + 1), ImportSizeError);
    await assert.rejects(importBlob(once(bytes), 2 * MiB - 1), ImportSizeError);
  });

  it("rejects a digest that is not sha256", () => {
    assert.throws(() => cidFromSha256Digest("sha512:abcd"));
    assert.equal(sha256DigestOfRawCid(sha256Cid(dagPb.code, new Uint8Array(1))), undefined);
  });
});

describe("dagOfLeaves", () => {
  const leafOf = (bytes: Uint8Array) =>
    CID.createV1(raw.code, Digest.create(sha256.code, createHash("sha256").update(bytes).digest()));

  it("rebuilds exactly what an import records, from the leaves alone", async () => {
    const bytes = patternBytes(5 * MiB + 12345, "dag-of-leaves");
    const imported = await importBlob(unevenPieces(bytes), bytes.length);
    const rebuilt = dagOfLeaves(
      imported.leaves.map(({ cid, length }) => ({ cid, length })),
      bytes.length,
    );
    assert.ok(rebuilt);
    assert.equal(String(rebuilt.cid), await referenceCid(bytes));
    assert.deepEqual(
      rebuilt.leaves.map((l) => [String(l.cid), l.offset, l.length]),
      imported.leaves.map((l) => [String(l.cid), l.offset, l.length]),
    );
    assert.deepEqual(
      rebuilt.nodes.map((n) => [String(n.cid), Buffer.from(n.bytes).toString("hex")]),
      imported.nodes.map((n) => [String(n.cid), Buffer.from(n.bytes).toString("hex")]),
    );
  });

  it("gives a single leaf of up to 1 MiB as the root itself", () => {
    const bytes = patternBytes(5000, "single");
    const dag = dagOfLeaves([{ cid: leafOf(bytes), length: bytes.length }], bytes.length);
    assert.ok(
      dag?.cid.equals(
        cidFromSha256Digest(`sha256:${createHash("sha256").update(bytes).digest("hex")}`),
      ),
    );
    assert.deepEqual([dag?.leaves, dag?.nodes], [[], []]);
  });

  it("refuses leaves not laid out as Flotilla imports", () => {
    const quarter = patternBytes(256 * 1024, "quarter");
    const small = [0, 1, 2, 3, 4].map(() => ({ cid: leafOf(quarter), length: quarter.length }));
    assert.equal(dagOfLeaves(small, 5 * quarter.length), undefined, "256 KiB chunks");
    const full = patternBytes(MiB, "full");
    const leaf = { cid: leafOf(full), length: MiB };
    assert.equal(dagOfLeaves([leaf, leaf], MiB + 1), undefined, "sizes that do not add up");
    assert.equal(dagOfLeaves([leaf, { ...leaf, length: 0 }], MiB), undefined, "an empty last leaf");
    const pb = CID.createV1(dagPb.code, leaf.cid.multihash);
    assert.equal(dagOfLeaves([leaf, { cid: pb, length: 10 }], MiB + 10), undefined, "not raw");
    const v0 = CID.createV0(leaf.cid.multihash as never);
    assert.equal(dagOfLeaves([{ cid: v0, length: 10 }], 10), undefined, "CIDv0");
    assert.equal(dagOfLeaves([], 0), undefined, "no leaves");
  });
});

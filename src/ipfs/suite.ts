/** The shared test suite every CidIndex implementation runs (memory here, SQLite in meta/). */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import * as dagPb from "@ipld/dag-pb";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import * as Digest from "multiformats/hashes/digest";
import { sha256 } from "multiformats/hashes/sha2";
import type { CidIndex, ImportedDag } from "./types.ts";

function cidOf(code: number, text: string): CID {
  return CID.createV1(code, Digest.create(sha256.code, createHash("sha256").update(text).digest()));
}

function digestOf(text: string): string {
  return `sha256:${createHash("sha256").update(text).digest("hex")}`;
}

/** A two-leaf import; `shared` is a leaf CID that another blob may also contain. */
function sampleDag(name: string, shared: CID): ImportedDag {
  const nodeBytes = new TextEncoder().encode(`node of ${name}`);
  const root = cidOf(dagPb.code, `node of ${name}`);
  return {
    cid: root,
    size: 20,
    leaves: [
      { cid: cidOf(raw.code, `leaf of ${name}`), offset: 0, length: 10 },
      { cid: shared, offset: 10, length: 10 },
    ],
    nodes: [{ cid: root, bytes: nodeBytes }],
  };
}

export function runCidIndexSuite(name: string, factory: () => Promise<CidIndex>): void {
  describe(`CidIndex: ${name}`, () => {
    it("records digest ↔ root and finds leaves and nodes", async () => {
      const index = await factory();
      const shared = cidOf(raw.code, "shared");
      const dag = sampleDag("a", shared);
      await index.putImport(digestOf("a"), dag);
      assert.equal(String(await index.rootOf(digestOf("a"))), String(dag.cid));
      assert.equal(await index.digestOf(dag.cid), digestOf("a"));
      assert.deepEqual(await index.leaf(shared), { digest: digestOf("a"), offset: 10, length: 10 });
      assert.deepEqual(await index.node(dag.cid), dag.nodes[0]?.bytes);
      assert.equal(await index.rootOf(digestOf("missing")), undefined);
      assert.equal(await index.leaf(cidOf(raw.code, "missing")), undefined);
      assert.equal(await index.node(cidOf(dagPb.code, "missing")), undefined);
    });

    it("keeps a leaf shared by two blobs when one of them is deleted", async () => {
      const index = await factory();
      const shared = cidOf(raw.code, "shared");
      const a = sampleDag("a", shared);
      const b = sampleDag("b", shared);
      await index.putImport(digestOf("a"), a);
      await index.putImport(digestOf("b"), b);
      await index.deleteImport(digestOf("a"));
      assert.equal(await index.rootOf(digestOf("a")), undefined);
      assert.equal(await index.digestOf(a.cid), undefined);
      assert.equal(await index.leaf(a.leaves[0]?.cid as CID), undefined);
      assert.equal(await index.node(a.cid), undefined);
      assert.deepEqual(await index.leaf(shared), { digest: digestOf("b"), offset: 10, length: 10 });
      assert.equal(await index.digestOf(b.cid), digestOf("b"));
    });

    it("treats importing the same blob twice as one import", async () => {
      const index = await factory();
      const shared = cidOf(raw.code, "shared");
      const dag = sampleDag("a", shared);
      await index.putImport(digestOf("a"), dag);
      await index.putImport(digestOf("a"), dag);
      await index.deleteImport(digestOf("a"));
      assert.equal(await index.leaf(shared), undefined);
      assert.equal(await index.rootOf(digestOf("a")), undefined);
      await index.deleteImport(digestOf("a"));
    });

    it("records a single-block blob by its root alone", async () => {
      const index = await factory();
      const root = cidOf(raw.code, "small");
      await index.putImport(digestOf("small"), { cid: root, size: 5, leaves: [], nodes: [] });
      assert.equal(String(await index.rootOf(digestOf("small"))), String(root));
      assert.equal(await index.digestOf(root), digestOf("small"));
    });
  });
}

/** An in-memory CidIndex for tests and for running without a metadata store. */
import type { CID } from "multiformats/cid";
import type { BlockLocation, CidIndex, ImportedDag } from "./types.ts";

export class MemoryCidIndex implements CidIndex {
  readonly #roots = new Map<string, CID>();
  readonly #digests = new Map<string, string>();
  /** Leaf CID → digest → location: a leaf shared by two blobs survives deleting one of them. */
  readonly #leaves = new Map<string, Map<string, BlockLocation>>();
  readonly #nodes = new Map<string, Map<string, Uint8Array>>();
  readonly #imports = new Map<string, ImportedDag>();

  async putImport(digest: string, dag: ImportedDag): Promise<void> {
    await this.deleteImport(digest);
    this.#imports.set(digest, dag);
    this.#roots.set(digest, dag.cid);
    this.#digests.set(key(dag.cid), digest);
    for (const leaf of dag.leaves) {
      const byDigest = getOrCreate(this.#leaves, key(leaf.cid));
      if (!byDigest.has(digest)) {
        byDigest.set(digest, { digest, offset: leaf.offset, length: leaf.length });
      }
    }
    for (const node of dag.nodes) getOrCreate(this.#nodes, key(node.cid)).set(digest, node.bytes);
  }

  async deleteImport(digest: string): Promise<void> {
    const dag = this.#imports.get(digest);
    if (!dag) return;
    this.#imports.delete(digest);
    this.#roots.delete(digest);
    if (this.#digests.get(key(dag.cid)) === digest) this.#digests.delete(key(dag.cid));
    for (const leaf of dag.leaves) removeFrom(this.#leaves, key(leaf.cid), digest);
    for (const node of dag.nodes) removeFrom(this.#nodes, key(node.cid), digest);
  }

  async rootOf(digest: string): Promise<CID | undefined> {
    return this.#roots.get(digest);
  }

  async digestOf(root: CID): Promise<string | undefined> {
    return this.#digests.get(key(root));
  }

  async leaf(cid: CID): Promise<BlockLocation | undefined> {
    return first(this.#leaves.get(key(cid)));
  }

  async node(cid: CID): Promise<Uint8Array | undefined> {
    return first(this.#nodes.get(key(cid)));
  }

  /** Bytes this index would need on disk (nodes plus leaf rows), to measure overhead in tests. */
  storedBytes(): number {
    let total = 0;
    for (const [cid, byDigest] of this.#leaves) total += byDigest.size * (cid.length + 71 + 16);
    for (const byDigest of this.#nodes.values()) {
      for (const bytes of byDigest.values()) total += bytes.length + 71;
    }
    return total + this.#roots.size * (71 + 64);
  }
}

/** Keyed by multihash so CIDv0/v1 spellings of one block find the same entry. */
function key(cid: CID): string {
  return `${cid.code}:${Buffer.from(cid.multihash.bytes).toString("base64")}`;
}

function getOrCreate<V>(map: Map<string, Map<string, V>>, k: string): Map<string, V> {
  let inner = map.get(k);
  if (!inner) {
    inner = new Map();
    map.set(k, inner);
  }
  return inner;
}

function removeFrom<V>(map: Map<string, Map<string, V>>, k: string, digest: string): void {
  const inner = map.get(k);
  inner?.delete(digest);
  if (inner?.size === 0) map.delete(k);
}

function first<V>(inner: Map<string, V> | undefined): V | undefined {
  if (!inner) return undefined;
  for (const value of inner.values()) return value;
  return undefined;
}

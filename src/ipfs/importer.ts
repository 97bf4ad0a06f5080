/**
 * UnixFS import with Flotilla's fixed settings (Kubo's `unixfs-v1-2025` profile): CIDv1, raw
 * leaves, 1 MiB fixed-size chunks, balanced DAG of at most 1024 links per node, sha2-256.
 *
 * The DAG is built here rather than through ipfs-unixfs-importer because only hashes are needed:
 * leaf bytes are hashed as they stream past and never kept, so importing costs one read of the
 * blob and stores nothing but the index and the small dag-pb nodes.
 */
import { createHash, type Hash } from "node:crypto";
import * as dagPb from "@ipld/dag-pb";
import { UnixFS } from "ipfs-unixfs";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import * as Digest from "multiformats/hashes/digest";
import { sha256 } from "multiformats/hashes/sha2";
import type { DagNode, ImportedDag, LeafLocation } from "./types.ts";

export const chunkSize = 1 << 20;
export const maxLinksPerNode = 1024;

export interface ImportOptions {
  signal?: AbortSignal;
  /** Overrides the fixed layout; only tests use it, to exercise deep trees with small inputs. */
  layout?: { chunkSize: number; maxLinksPerNode: number };
}

export class ImportSizeError extends Error {
  constructor(expected: number, actual: number) {
    super(`blob import expected ${expected} bytes, read ${actual}`);
    this.name = "ImportSizeError";
  }
}

/** The CID of a blob of at most 1 MiB, from its `sha256:<hex>` digest alone (raw codec). */
export function cidFromSha256Digest(digest: string): CID {
  const hex = digest.startsWith("sha256:") ? digest.slice(7) : "";
  if (!/^[a-f0-9]{64}$/.test(hex)) throw new Error(`not a sha256 digest: ${digest}`);
  return CID.createV1(raw.code, Digest.create(sha256.code, Buffer.from(hex, "hex")));
}

/** The `sha256:<hex>` digest a raw sha2-256 CID stands for, or undefined for any other CID. */
export function sha256DigestOfRawCid(cid: CID): string | undefined {
  if (cid.code !== raw.code || cid.multihash.code !== sha256.code) return undefined;
  if (cid.multihash.digest.length !== 32) return undefined;
  return `sha256:${Buffer.from(cid.multihash.digest).toString("hex")}`;
}

/** A node of the tree under construction: its CID, file bytes covered, and cumulative size. */
interface Child {
  cid: CID;
  fileSize: number;
  /** Tsize of the link: block bytes plus the Tsize of everything below. */
  treeSize: number;
}

/**
 * The balanced layout over leaves given in file order: each full node of `maxLinksPerNode`
 * children goes one level up at once, the remainders are closed at the end.
 */
class DagBuilder {
  readonly #maxLinks: number;
  readonly leaves: LeafLocation[] = [];
  readonly #nodes: DagNode[] = [];
  readonly #levels: Child[][] = [[]];
  readonly #pushedPerLevel: number[] = [0];
  #offset = 0;

  constructor(maxLinks: number) {
    this.#maxLinks = maxLinks;
  }

  addLeaf(cid: CID, length: number): void {
    this.leaves.push({ cid, offset: this.#offset, length });
    this.#offset += length;
    this.#add(0, { cid, fileSize: length, treeSize: length });
  }

  finish(size: number): ImportedDag {
    if (this.leaves.length === 1) {
      const leaf = this.leaves[0] as LeafLocation;
      return { cid: leaf.cid, size, leaves: [], nodes: [] };
    }
    // Close the balanced layout: each level's remainder becomes one more node one level up,
    // until a level that only ever held one node, which is the root.
    for (let level = 0; ; level++) {
      const pending = this.#levels[level] ?? [];
      if (this.#pushedPerLevel[level] === 1 && (this.#levels[level + 1] ?? []).length === 0) {
        const root = pending[0] as Child;
        return { cid: root.cid, size, leaves: this.leaves, nodes: this.#nodes };
      }
      if (pending.length > 0) {
        this.#levels[level] = [];
        this.#add(level + 1, encodeNode(pending, this.#nodes));
      }
    }
  }

  #add(level: number, child: Child): void {
    this.#levels[level] ??= [];
    this.#pushedPerLevel[level] = (this.#pushedPerLevel[level] ?? 0) + 1;
    const pending = this.#levels[level];
    pending.push(child);
    if (pending.length === this.#maxLinks) {
      this.#levels[level] = [];
      this.#add(level + 1, encodeNode(pending, this.#nodes));
    }
  }
}

/** Imports a blob's bytes (`size` of them, in order) and returns its DAG and leaf index. */
export async function importBlob(
  source: AsyncIterable<Uint8Array>,
  size: number,
  options: ImportOptions = {},
): Promise<ImportedDag> {
  const layout = options.layout ?? { chunkSize, maxLinksPerNode };
  const dag = new DagBuilder(layout.maxLinksPerNode);
  let offset = 0;
  let leafStart = 0;
  let hash: Hash = createHash("sha256");
  const finishLeaf = () => {
    dag.addLeaf(
      CID.createV1(raw.code, Digest.create(sha256.code, hash.digest())),
      offset - leafStart,
    );
    leafStart = offset;
    hash = createHash("sha256");
  };

  for await (const piece of source) {
    options.signal?.throwIfAborted();
    let at = 0;
    while (at < piece.length) {
      const room = layout.chunkSize - (offset - leafStart);
      const take = Math.min(room, piece.length - at);
      hash.update(at === 0 && take === piece.length ? piece : piece.subarray(at, at + take));
      at += take;
      offset += take;
      if (offset - leafStart === layout.chunkSize) finishLeaf();
    }
    if (offset > size) throw new ImportSizeError(size, offset);
  }
  if (offset !== size) throw new ImportSizeError(size, offset);
  if (offset > leafStart || dag.leaves.length === 0) finishLeaf();
  return dag.finish(size);
}

/**
 * The DAG an import of a blob would produce, from its leaves' CIDs and lengths alone, when they
 * are laid out as Flotilla imports (every leaf a raw sha2-256 block of 1 MiB but the last, which
 * is not empty unless it is the only one); undefined otherwise. A blob fetched from peers, its
 * leaves checked against their CIDs on the way, is recorded with this instead of being read and
 * hashed again.
 */
export function dagOfLeaves(
  leaves: readonly { cid: CID; length: number }[],
  size: number,
): ImportedDag | undefined {
  if (leaves.length === 0) return undefined;
  const dag = new DagBuilder(maxLinksPerNode);
  let total = 0;
  for (const [i, leaf] of leaves.entries()) {
    const last = i === leaves.length - 1;
    const fits = last
      ? leaf.length <= chunkSize && (leaf.length > 0 || i === 0)
      : leaf.length === chunkSize;
    if (!fits || leaf.cid.code !== raw.code || leaf.cid.multihash.code !== sha256.code)
      return undefined;
    if (leaf.cid.version !== 1) return undefined;
    dag.addLeaf(leaf.cid, leaf.length);
    total += leaf.length;
  }
  return total === size ? dag.finish(size) : undefined;
}

/** Encodes one UnixFS file node over `children` and records it in `nodes`. */
function encodeNode(children: Child[], nodes: DagNode[]): Child {
  const data = new UnixFS({
    type: "file",
    blockSizes: children.map((child) => BigInt(child.fileSize)),
  });
  const bytes = dagPb.encode(
    dagPb.prepare({
      Data: data.marshal(),
      Links: children.map((child) => ({ Name: "", Tsize: child.treeSize, Hash: child.cid })),
    }),
  );
  const cid = CID.createV1(dagPb.code, Digest.create(sha256.code, sha256Bytes(bytes)));
  nodes.push({ cid, bytes });
  let fileSize = 0;
  let treeSize = bytes.length;
  for (const child of children) {
    fileSize += child.fileSize;
    treeSize += child.treeSize;
  }
  return { cid, fileSize, treeSize };
}

function sha256Bytes(bytes: Uint8Array): Uint8Array {
  return createHash("sha256").update(bytes).digest();
}

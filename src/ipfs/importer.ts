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

/** Imports a blob's bytes (`size` of them, in order) and returns its DAG and leaf index. */
export async function importBlob(
  source: AsyncIterable<Uint8Array>,
  size: number,
  options: ImportOptions = {},
): Promise<ImportedDag> {
  const layout = options.layout ?? { chunkSize, maxLinksPerNode };
  const leaves: LeafLocation[] = [];
  const nodes: DagNode[] = [];
  const levels: Child[][] = [[]];
  const pushedPerLevel: number[] = [0];

  const addToLevel = (level: number, child: Child) => {
    levels[level] ??= [];
    pushedPerLevel[level] = (pushedPerLevel[level] ?? 0) + 1;
    const pending = levels[level];
    pending.push(child);
    if (pending.length === layout.maxLinksPerNode) {
      levels[level] = [];
      addToLevel(level + 1, encodeNode(pending, nodes));
    }
  };

  let offset = 0;
  let leafStart = 0;
  let hash: Hash = createHash("sha256");
  const finishLeaf = () => {
    const length = offset - leafStart;
    const cid = CID.createV1(raw.code, Digest.create(sha256.code, hash.digest()));
    leaves.push({ cid, offset: leafStart, length });
    addToLevel(0, { cid, fileSize: length, treeSize: length });
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
  if (offset > leafStart || leaves.length === 0) finishLeaf();

  if (leaves.length === 1) {
    const leaf = leaves[0] as LeafLocation;
    return { cid: leaf.cid, size, leaves: [], nodes: [] };
  }
  // Close the balanced layout: each level's remainder becomes one more node one level up,
  // until a level that only ever held one node, which is the root.
  for (let level = 0; ; level++) {
    const pending = levels[level] ?? [];
    if (pushedPerLevel[level] === 1 && (levels[level + 1] ?? []).length === 0) {
      const root = pending[0] as Child;
      return { cid: root.cid, size, leaves, nodes };
    }
    if (pending.length > 0) {
      levels[level] = [];
      addToLevel(level + 1, encodeNode(pending, nodes));
    }
  }
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

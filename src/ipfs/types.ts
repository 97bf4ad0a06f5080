/** IPFS extension: the shapes an import produces and the small stores the blockstore reads. */
import type { CID } from "multiformats/cid";

/** Where one raw leaf lives: a byte range of a stored blob. */
export interface LeafLocation {
  cid: CID;
  /** First byte of the leaf in the blob. */
  offset: number;
  length: number;
}

/** One encoded dag-pb node of a file's DAG. */
export interface DagNode {
  cid: CID;
  bytes: Uint8Array;
}

/** What importing a blob produces: the root CID, the leaf index and the dag-pb nodes to keep. */
export interface ImportedDag {
  cid: CID;
  size: number;
  /** Raw leaves in file order; empty when the blob is a single raw block (the root itself). */
  leaves: LeafLocation[];
  /** Every dag-pb node, root last; empty for a single raw block. */
  nodes: DagNode[];
}

/** A leaf found in the index: which blob holds it, and where. */
export interface BlockLocation {
  digest: string;
  offset: number;
  length: number;
}

/**
 * The `digest ↔ CID` index and the leaf/node lookups the zero-copy blockstore needs. An in-memory
 * version serves tests; the metadata store provides the durable one. A leaf or node may belong to
 * several blobs; lookups return any one of them.
 */
export interface CidIndex {
  /** Records an imported blob (root, leaf ranges and dag-pb nodes) in one step. */
  putImport(digest: string, dag: ImportedDag): Promise<void>;
  /** Forgets what `putImport` recorded for a blob; leaves and nodes shared with others stay. */
  deleteImport(digest: string): Promise<void>;
  /** The root CID recorded for a blob digest. */
  rootOf(digest: string): Promise<CID | undefined>;
  /** The blob digest whose root is this CID. */
  digestOf(root: CID): Promise<string | undefined>;
  /** Where a raw leaf's bytes are. */
  leaf(cid: CID): Promise<BlockLocation | undefined>;
  /** The bytes of a dag-pb node. */
  node(cid: CID): Promise<Uint8Array | undefined>;
}

/** A read that may land in a buffer the caller reuses (serving loops), sparing an allocation. */
export interface ReadIntoOptions {
  signal?: AbortSignal;
  into?: Uint8Array;
}

/** Ranged reads of committed blobs, the one capability zero-copy serving needs from storage. */
export interface BlobRangeReader {
  /** Size of a committed blob, or undefined when the store does not hold it. */
  size(digest: string): Promise<number | undefined>;
  /**
   * Exactly `length` bytes at `offset` of a blob (one read), or undefined when it is absent;
   * read into `into` (a view of it is returned) when it is large enough.
   */
  read(
    digest: string,
    offset: number,
    length: number,
    options?: ReadIntoOptions,
  ): Promise<Uint8Array | undefined>;
}

/**
 * The zero-copy blockstore Helia and bitswap read from. Our own blocks are never copied: a raw
 * leaf is one read of `(blob, offset, length)`, a single-block blob is the blob file itself, and
 * dag-pb nodes come from the CID index. Blocks received from peers go to a plain fallback store,
 * each checked against its CID first.
 */
import { createHash } from "node:crypto";
import * as dagPb from "@ipld/dag-pb";
import { FsBlockstore } from "blockstore-fs";
import type { Blockstore, InputPair, Pair } from "interface-blockstore";
import type { CID } from "multiformats/cid";
import { chunkSize, sha256DigestOfRawCid } from "./importer.ts";
import type { BlobRangeReader, CidIndex, ReadIntoOptions } from "./types.ts";

type BlockInput = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

export interface ZeroCopyBlockstoreDeps {
  index: CidIndex;
  blobs: BlobRangeReader;
  /** Where blocks received from peers are kept. */
  fallback: Blockstore;
}

export interface ZeroCopyBlockstoreOptions {
  /**
   * Hash every block read from a blob before serving it, so a blob damaged on disk is refused
   * instead of sent (default true; a leaf costs about a millisecond).
   */
  verifyReads?: boolean;
  /**
   * Whether one of our blocks may be given out (to peers, the gateway). Blocks of content nobody
   * may pull anonymously look absent. Default: all.
   */
  shareable?: (cid: CID) => Promise<boolean>;
}

/** Put options: `transient` checks a block received from a peer but keeps none of it. */
export interface ZeroCopyPutOptions {
  signal?: AbortSignal;
  transient?: boolean;
}

export class BlockHashMismatchError extends Error {
  constructor(cid: CID, where: string) {
    super(`block ${cid} does not match its hash (${where})`);
    this.name = "BlockHashMismatchError";
  }
}

export class UnsupportedHashError extends Error {
  constructor(cid: CID) {
    super(`block ${cid} uses multihash 0x${cid.multihash.code.toString(16)}, not supported`);
    this.name = "UnsupportedHashError";
  }
}

const hashNames = new Map([
  [0x12, "sha256"],
  [0x13, "sha512"],
]);

/** True when `bytes` hash to the multihash in `cid`. Throws for hash functions we lack. */
export function blockMatches(cid: CID, bytes: Uint8Array): boolean {
  const name = hashNames.get(cid.multihash.code);
  if (!name) throw new UnsupportedHashError(cid);
  const digest = createHash(name).update(bytes).digest();
  return Buffer.from(cid.multihash.digest).equals(digest);
}

/** A block of ours that is not given out; it reads as not found. */
export class BlockNotSharedError extends Error {
  constructor(cid: CID) {
    super(`block ${cid} is not shared`);
    this.name = "NotFoundError";
  }
}

export class ZeroCopyBlockstore implements Blockstore {
  readonly #index: CidIndex;
  readonly #blobs: BlobRangeReader;
  readonly #fallback: Blockstore;
  readonly #verifyReads: boolean;
  readonly #shareable: (cid: CID) => Promise<boolean>;

  constructor(deps: ZeroCopyBlockstoreDeps, options: ZeroCopyBlockstoreOptions = {}) {
    this.#index = deps.index;
    this.#blobs = deps.blobs;
    this.#fallback = deps.fallback;
    this.#verifyReads = options.verifyReads ?? true;
    this.#shareable = options.shareable ?? (async () => true);
  }

  /** A blockstore whose fallback is blockstore-fs under `fallbackDir`, opened and ready. */
  static async create(
    deps: Omit<ZeroCopyBlockstoreDeps, "fallback">,
    options: ZeroCopyBlockstoreOptions & { fallbackDir: string },
  ): Promise<ZeroCopyBlockstore> {
    const fallback = new FsBlockstore(options.fallbackDir);
    await fallback.open();
    return new ZeroCopyBlockstore({ ...deps, fallback }, options);
  }

  /** True when the block is one of ours (imported), not one kept from a peer. */
  async isLocal(cid: CID, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    options.signal?.throwIfAborted();
    return (await this.#locate(cid)) !== undefined;
  }

  async has(cid: CID, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    if (await this.#locate(cid)) return this.#shareable(cid);
    return this.#fallback.has(cid, options);
  }

  async put(cid: CID, block: BlockInput, options: ZeroCopyPutOptions = {}): Promise<CID> {
    const bytes = await collect(block);
    if (!blockMatches(cid, bytes)) throw new BlockHashMismatchError(cid, "received");
    if (options.transient || (await this.#locate(cid))) return cid;
    await this.#fallback.put(cid, bytes, options);
    return cid;
  }

  async *putMany(
    source: Iterable<InputPair> | AsyncIterable<InputPair>,
    options: ZeroCopyPutOptions = {},
  ): AsyncGenerator<CID> {
    for await (const { cid, bytes } of source) yield await this.put(cid, bytes, options);
  }

  /** A block; a leaf of ours is read into `options.into` when given and large enough. */
  async *get(cid: CID, options: ReadIntoOptions = {}): AsyncGenerator<Uint8Array> {
    const local = await this.#readLocal(cid, options);
    if (local) {
      if (!(await this.#shareable(cid))) throw new BlockNotSharedError(cid);
      yield local;
      return;
    }
    yield* this.#fallback.get(cid, options);
  }

  async *getMany(
    source: Iterable<CID> | AsyncIterable<CID>,
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<Pair> {
    for await (const cid of source) yield { cid, bytes: this.get(cid, options) };
  }

  /** Deletes a block kept from a peer; imported blocks go only with their blob's index entry. */
  async delete(cid: CID, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#fallback.delete(cid, options);
  }

  async *deleteMany(
    source: Iterable<CID> | AsyncIterable<CID>,
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<CID> {
    for await (const cid of source) {
      await this.delete(cid, options);
      yield cid;
    }
  }

  /** Only the fallback's blocks: imported ones belong to the registry's blobs and their GC. */
  async *getAll(options: { signal?: AbortSignal } = {}): AsyncGenerator<Pair> {
    yield* this.#fallback.getAll(options);
  }

  /** Where one of our blocks is, without reading it. */
  async #locate(
    cid: CID,
  ): Promise<{ digest: string; offset: number; length: number } | Uint8Array | undefined> {
    if (cid.code === dagPb.code) return this.#index.node(cid);
    const leaf = await this.#index.leaf(cid);
    // The index outlives a blob file that went missing; then the leaf is not ours to serve.
    if (leaf)
      return ((await this.#blobs.size(leaf.digest)) ?? 0) >= leaf.offset + leaf.length
        ? leaf
        : undefined;
    const digest = sha256DigestOfRawCid(cid);
    if (!digest) return undefined;
    const size = await this.#blobs.size(digest);
    if (size === undefined || size > chunkSize) return undefined;
    return { digest, offset: 0, length: size };
  }

  async #readLocal(cid: CID, options: ReadIntoOptions): Promise<Uint8Array | undefined> {
    const where = await this.#locate(cid);
    if (!where || where instanceof Uint8Array) return where;
    const bytes = await this.#blobs.read(where.digest, where.offset, where.length, options);
    if (this.#verifyReads && bytes && !blockMatches(cid, bytes)) {
      throw new BlockHashMismatchError(cid, `${where.digest} at ${where.offset}`);
    }
    return bytes;
  }
}

async function collect(block: BlockInput): Promise<Uint8Array> {
  if (block instanceof Uint8Array) return block;
  const parts: Uint8Array[] = [];
  for await (const part of block) parts.push(part);
  return parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
}

/**
 * CAR v1 streams of a DAG: the header, the framing of each block, and a depth-first walk that
 * fetches a bounded window of blocks ahead, so a DAG of any size streams in bounded memory.
 */
import * as CarBufferWriter from "@ipld/car/buffer-writer";
import * as dagPb from "@ipld/dag-pb";
import { UnixFS } from "ipfs-unixfs";
import { varint } from "multiformats";
import type { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { identity } from "multiformats/hashes/identity";
import { MalformedDagError } from "./fetch.ts";

/** One block: its CID and bytes. */
export interface DagBlock {
  cid: CID;
  bytes: Uint8Array;
}

/**
 * Gets one block, verified against its CID, or undefined when it is not available; it may be read
 * into `options.into` (a buffer the caller reuses once the block is sent).
 */
export type MaybeBlockGetter = (
  cid: CID,
  options: { signal?: AbortSignal; into?: Uint8Array },
) => Promise<Uint8Array | undefined>;

/** How much of the DAG under a root to walk (the gateway's `dag-scope`, resolved). */
export type WalkScope = "all" | "block";

export interface WalkOptions {
  scope?: WalkScope;
  /** Send a block every time it is linked (`dups=y`) instead of once (default false). */
  dups?: boolean;
  /** Blocks requested ahead of the one being yielded, per node (default 8). */
  window?: number;
  signal?: AbortSignal;
}

export class MissingBlockError extends Error {
  constructor(cid: CID) {
    super(`block ${cid} is not available`);
    this.name = "MissingBlockError";
  }
}

export class UnsupportedCodecError extends Error {
  constructor(cid: CID) {
    super(`cannot follow the links of ${cid} (codec 0x${cid.code.toString(16)})`);
    this.name = "UnsupportedCodecError";
  }
}

/** True for an identity CID, whose block is the multihash digest itself. */
export function isIdentity(cid: CID): boolean {
  return cid.multihash.code === identity.code;
}

/** The varint-prefixed dag-cbor header `{ version: 1, roots: [root] }`. */
export function carHeader(root: CID): Uint8Array {
  const roots = [root];
  const size = CarBufferWriter.headerLength({ roots });
  return CarBufferWriter.createWriter(new ArrayBuffer(size), { roots }).close();
}

/** One CAR section as two writes: `varint(len(cid) + len(block))` with the CID, then the block. */
export function carSection(block: DagBlock): [Uint8Array, Uint8Array] {
  const cid = block.cid.bytes;
  const length = cid.length + block.bytes.length;
  const size = varint.encodingLength(length);
  const head = new Uint8Array(size + cid.length);
  varint.encodeTo(length, head);
  head.set(cid, size);
  return [head, block.bytes];
}

/** The CIDs a block links to; throws for a malformed dag-pb node or a codec we cannot walk. */
export function linksOf(block: DagBlock): CID[] {
  if (block.cid.code === raw.code) return [];
  if (block.cid.code !== dagPb.code) throw new UnsupportedCodecError(block.cid);
  return decodePb(block).Links.map((link) => link.Hash);
}

function decodePb(block: DagBlock): dagPb.PBNode {
  try {
    return dagPb.decode(block.bytes);
  } catch (error) {
    throw new MalformedDagError(block.cid, `not a dag-pb node (${(error as Error).message})`);
  }
}

/**
 * What `dag-scope=entity` means for this root: a UnixFS file (or any non-dag-pb block) is
 * walked like `all` or `block`; a plain directory is its own node. Undefined for a HAMT shard,
 * whose enumeration needs shard-aware walking we do not do.
 */
export function entityScope(block: DagBlock): WalkScope | undefined {
  if (block.cid.code !== dagPb.code) return block.cid.code === raw.code ? "all" : "block";
  const data = decodePb(block).Data;
  if (!data) throw new MalformedDagError(block.cid, "dag-pb node without UnixFS data");
  let type: string;
  try {
    type = UnixFS.unmarshal(data).type;
  } catch (error) {
    throw new MalformedDagError(block.cid, `bad UnixFS data (${(error as Error).message})`);
  }
  if (type === "file" || type === "raw") return "all";
  if (type === "directory" || type === "symlink" || type === "metadata") return "block";
  return undefined;
}

/**
 * Yields the blocks of the DAG under `root` depth-first, each once unless `dups`. Identity blocks
 * are walked but never yielded: their bytes are already in the CID. A linked block that is
 * missing throws `MissingBlockError`.
 */
export async function* walkDag(
  root: DagBlock,
  getBlock: MaybeBlockGetter,
  options: WalkOptions = {},
): AsyncGenerator<DagBlock> {
  const controller = new AbortController();
  const signal = options.signal
    ? AbortSignal.any([options.signal, controller.signal])
    : controller.signal;
  const walk: Walk = {
    getBlock: (cid) =>
      isIdentity(cid) ? Promise.resolve(cid.multihash.digest) : getBlock(cid, { signal }),
    seen: options.dups ? undefined : new Set([root.cid.toString()]),
    window: Math.max(1, options.window ?? 8),
  };
  try {
    if (options.scope === "block") {
      if (!isIdentity(root.cid)) yield root;
      return;
    }
    yield* walkFrom(root, walk);
  } finally {
    // Stops the fetches still in flight when the consumer stops early or a block fails.
    controller.abort();
  }
}

interface Walk {
  getBlock(cid: CID): Promise<Uint8Array | undefined>;
  /** CIDs already sent, when duplicates are left out. */
  seen: Set<string> | undefined;
  window: number;
}

async function* walkFrom(block: DagBlock, walk: Walk): AsyncGenerator<DagBlock> {
  if (!isIdentity(block.cid)) yield block;
  const links = linksOf(block);
  const inFlight: Array<Promise<Uint8Array | undefined> | undefined> = [];
  let next = 0;
  const request = () => {
    const cid = links[next++] as CID;
    if (walk.seen?.has(cid.toString())) {
      inFlight.push(undefined);
      return;
    }
    const pending = walk.getBlock(cid);
    // Handled when its turn comes; this only keeps an early failure from going unobserved.
    pending.catch(() => {});
    inFlight.push(pending);
  };
  for (const cid of links) {
    while (next < links.length && inFlight.length < walk.window) request();
    const pending = inFlight.shift();
    const key = cid.toString();
    if (walk.seen?.has(key)) continue;
    walk.seen?.add(key);
    const bytes = await pending;
    if (!bytes) throw new MissingBlockError(cid);
    yield* walkFrom({ cid, bytes }, walk);
  }
}

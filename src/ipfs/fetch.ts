/**
 * Reads a UnixFS file's bytes in order with a bounded window of blocks in flight. Unlike
 * `unixfs.cat()`, which lets the serving side load nearly every block of a large file at once,
 * at most `window` blocks are wanted at a time, so memory stays bounded on both sides.
 */
import * as dagPb from "@ipld/dag-pb";
import { UnixFS } from "ipfs-unixfs";
import type { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";

/**
 * A block's bytes: one array, or pieces in order (a block read straight out of a network stream,
 * not copied into one buffer; a raw leaf's pieces pass through as they are).
 */
export type BlockBytes = Uint8Array | readonly Uint8Array[];

/** Gets one block, verified against its CID. */
export type BlockGetter = (cid: CID, options: { signal: AbortSignal }) => Promise<BlockBytes>;

/** The block as one array (copied only when it came in pieces). */
export function contiguous(block: BlockBytes): Uint8Array {
  if (!Array.isArray(block)) return block as Uint8Array;
  return block.length === 1 ? (block[0] as Uint8Array) : Buffer.concat(block);
}

function lengthOf(block: BlockBytes): number {
  if (!Array.isArray(block)) return (block as Uint8Array).length;
  let length = 0;
  for (const piece of block) length += piece.length;
  return length;
}

export interface FetchFileOptions {
  signal?: AbortSignal;
  /** Blocks requested ahead of the one being yielded (default 16: 16 MiB of 1 MiB leaves). */
  window?: number | (() => number);
  /** Told of each raw leaf, in file order, once its bytes are about to be yielded. */
  onLeaf?: (cid: CID, length: number) => void;
}

export class NotAFileError extends Error {
  constructor(cid: CID, type: string) {
    super(`${cid} is a UnixFS ${type}, not a file`);
    this.name = "NotAFileError";
  }
}

export class MalformedDagError extends Error {
  constructor(cid: CID, reason: string) {
    super(`${cid}: ${reason}`);
    this.name = "MalformedDagError";
  }
}

/** Streams the bytes of the file at `root` (raw block or UnixFS dag-pb file). */
export async function* fetchFile(
  getBlock: BlockGetter,
  root: CID,
  options: FetchFileOptions = {},
): AsyncGenerator<Uint8Array> {
  const configured = options.window ?? 16;
  // A function lets the getter say how much to ask ahead as it goes (a stream needs little).
  const window = () => Math.max(1, typeof configured === "function" ? configured() : configured);
  const controller = new AbortController();
  const signal = options.signal
    ? AbortSignal.any([options.signal, controller.signal])
    : controller.signal;
  try {
    const block = await getBlock(root, { signal });
    let total = 0;
    const walk: Walk = { getBlock, window, signal, onLeaf: options.onLeaf };
    for await (const bytes of fileBytes(root, block, walk)) {
      total += bytes.length;
      yield bytes;
    }
    const expected =
      root.code === raw.code
        ? lengthOf(block)
        : Number(unixfsOf(root, contiguous(block)).fileSize());
    if (total !== expected) {
      throw new MalformedDagError(root, `file is ${expected} bytes, its blocks hold ${total}`);
    }
  } finally {
    // Stops the wants still in flight when the consumer stops early or a block fails.
    controller.abort();
  }
}

function unixfsOf(cid: CID, block: Uint8Array): UnixFS {
  const node = dagPb.decode(block);
  if (!node.Data) throw new MalformedDagError(cid, "dag-pb node without UnixFS data");
  const unixfs = UnixFS.unmarshal(node.Data);
  if (unixfs.type !== "file" && unixfs.type !== "raw") throw new NotAFileError(cid, unixfs.type);
  return unixfs;
}

interface Walk {
  getBlock: BlockGetter;
  window: () => number;
  signal: AbortSignal;
  onLeaf: FetchFileOptions["onLeaf"];
}

/** The bytes under one block: a raw leaf's own bytes, or a node's data then its children's. */
async function* fileBytes(cid: CID, block: BlockBytes, walk: Walk): AsyncGenerator<Uint8Array> {
  const { getBlock, window, signal } = walk;
  if (cid.code === raw.code) {
    walk.onLeaf?.(cid, lengthOf(block));
    if (Array.isArray(block)) yield* block;
    else yield block as Uint8Array;
    return;
  }
  if (cid.code !== dagPb.code) throw new MalformedDagError(cid, `unexpected codec ${cid.code}`);
  const node = contiguous(block);
  const unixfs = unixfsOf(cid, node);
  if (unixfs.data?.length) yield unixfs.data;
  const links = dagPb.decode(node).Links;
  if (links.length !== unixfs.blockSizes.length) {
    throw new MalformedDagError(cid, "links and block sizes differ in number");
  }
  const inFlight: Promise<BlockBytes>[] = [];
  let next = 0;
  const request = () => {
    const link = links[next++] as dagPb.PBLink;
    const pending = getBlock(link.Hash, { signal });
    // Handled when its turn comes; this only keeps an early failure from going unobserved.
    pending.catch(() => {});
    inFlight.push(pending);
  };
  for (let i = 0; i < links.length; i++) {
    while (next < links.length && inFlight.length < window()) request();
    const child = await (inFlight.shift() as Promise<BlockBytes>);
    const link = links[i] as dagPb.PBLink;
    let size = 0;
    for await (const bytes of fileBytes(link.Hash, child, walk)) {
      size += bytes.length;
      yield bytes;
    }
    if (BigInt(size) !== unixfs.blockSizes[i]) {
      throw new MalformedDagError(
        cid,
        `child ${i} holds ${size} bytes, not ${unixfs.blockSizes[i]}`,
      );
    }
  }
}

/**
 * A file's blocks from one CAR stream (`GET /ipfs/<root>?format=car`, depth-first, duplicates
 * included): one HTTP response instead of a request per block, which is what makes a pull from
 * a peer run near the speed of a plain download. Each block is checked against its CID as it is
 * read; the reader takes blocks in the order the file walk asks for them, and anything unexpected
 * (a wrong block, a gap, a section too large, the stream ending) ends the feed, so the caller
 * gets the remaining blocks another way.
 */
import { createHash } from "node:crypto";
import { CID } from "multiformats/cid";
import { UnsupportedHashError } from "./blockstore.ts";

/** Largest section accepted: a 1 MiB leaf or a dag-pb node of 1024 links, with room to spare. */
const maxSectionBytes = (2 << 20) + 128;
const maxHeaderBytes = 4096;
/** A CIDv1 with a sha2-512 multihash is 70 bytes; room to spare. */
const maxCidBytes = 128;
const hashNames = new Map([
  [0x12, "sha256"],
  [0x13, "sha512"],
]);
/** Blocks read ahead of what the walk asked for; a stream further off course is dropped. */
const maxAhead = 64;

export class CarFeedError extends Error {
  constructor(reason: string) {
    super(`CAR stream: ${reason}`);
    this.name = "CarFeedError";
  }
}

/** Reads exact byte counts from a stream of chunks. */
class ByteQueue {
  readonly #source: AsyncIterator<Uint8Array>;
  #chunks: Uint8Array[] = [];
  #length = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#source = source[Symbol.asyncIterator]();
  }

  /** Whether at least `n` bytes are available (false at the end of the stream). */
  async #fill(n: number): Promise<boolean> {
    while (this.#length < n) {
      const next = await this.#source.next();
      if (next.done) return false;
      this.#chunks.push(next.value);
      this.#length += next.value.length;
    }
    return true;
  }

  /** The next byte, or undefined at a clean end of the stream. */
  async peekByte(at: number): Promise<number | undefined> {
    if (!(await this.#fill(at + 1))) return undefined;
    let skip = at;
    for (const chunk of this.#chunks) {
      if (skip < chunk.length) return chunk[skip];
      skip -= chunk.length;
    }
    return undefined;
  }

  async take(n: number): Promise<Uint8Array> {
    if (!(await this.#fill(n))) throw new CarFeedError("ended inside a section");
    const first = this.#chunks[0] as Uint8Array;
    let out: Uint8Array;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let at = 0;
      while (at < n) {
        const chunk = this.#chunks[0] as Uint8Array;
        const part = Math.min(chunk.length, n - at);
        out.set(chunk.subarray(0, part), at);
        at += part;
        if (part === chunk.length) this.#chunks.shift();
        else this.#chunks[0] = chunk.subarray(part);
      }
    }
    this.#length -= n;
    return out;
  }

  /** `n` bytes as pieces of the chunks they arrived in, without copying them. */
  async takeParts(n: number): Promise<Uint8Array[]> {
    if (!(await this.#fill(n))) throw new CarFeedError("ended inside a section");
    const parts: Uint8Array[] = [];
    let left = n;
    while (left > 0) {
      const chunk = this.#chunks[0] as Uint8Array;
      const part = Math.min(chunk.length, left);
      parts.push(part === chunk.length ? chunk : chunk.subarray(0, part));
      if (part === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(part);
      left -= part;
    }
    this.#length -= n;
    return parts;
  }

  /** Up to `n` bytes from the front, copied, without consuming them. */
  async peek(n: number): Promise<Uint8Array> {
    await this.#fill(n);
    const out = Buffer.allocUnsafe(Math.min(n, this.#length));
    let at = 0;
    for (const chunk of this.#chunks) {
      if (at >= out.length) break;
      const part = Math.min(chunk.length, out.length - at);
      out.set(chunk.subarray(0, part), at);
      at += part;
    }
    return out;
  }

  /** An unsigned LEB128 varint, or undefined at a clean end of the stream. */
  async varint(): Promise<number | undefined> {
    let value = 0;
    for (let i = 0; i < 8; i++) {
      const byte = await this.peekByte(i);
      if (byte === undefined) {
        if (i === 0) return undefined;
        throw new CarFeedError("ended inside a varint");
      }
      value += (byte & 0x7f) * 2 ** (7 * i);
      if ((byte & 0x80) === 0) {
        await this.take(i + 1);
        return value;
      }
    }
    throw new CarFeedError("varint too long");
  }

  async close(): Promise<void> {
    await this.#source.return?.();
  }
}

/** Blocks of a CAR stream, handed out by CID in the order they are asked for. */
export class CarFeed {
  readonly #bytes: ByteQueue;
  /** Verified blocks read but not yet asked for, by CID; a repeated block queues twice. */
  readonly #ready = new Map<string, Uint8Array[][]>();
  #ahead = 0;
  #headerRead = false;
  #reading: Promise<void> | undefined;
  #ended: Error | undefined;

  constructor(body: AsyncIterable<Uint8Array>) {
    this.#bytes = new ByteQueue(body);
  }

  /** Why the feed ended, once it has. */
  get ended(): Error | undefined {
    return this.#ended;
  }

  /** The block (in pieces), verified, or undefined once the stream cannot give it. */
  async get(cid: CID): Promise<Uint8Array[] | undefined> {
    const key = cid.toString();
    for (;;) {
      const queued = this.#ready.get(key);
      if (queued?.length) {
        const bytes = queued.shift() as Uint8Array[];
        if (queued.length === 0) this.#ready.delete(key);
        this.#ahead--;
        return bytes;
      }
      if (this.#ended) return undefined;
      this.#reading ??= this.#readOne().finally(() => {
        this.#reading = undefined;
      });
      await this.#reading;
    }
  }

  /** Stops reading; blocks not yet asked for are dropped. */
  close(): void {
    this.#end(new CarFeedError("closed"));
    this.#ready.clear();
  }

  async #readOne(): Promise<void> {
    try {
      if (!this.#headerRead) {
        const length = await this.#bytes.varint();
        if (length === undefined || length > maxHeaderBytes)
          throw new CarFeedError("bad header length");
        await this.#bytes.take(length);
        this.#headerRead = true;
      }
      const length = await this.#bytes.varint();
      if (length === undefined) throw new CarFeedError("no more blocks");
      if (length > maxSectionBytes) throw new CarFeedError(`section of ${length} bytes`);
      // The CID is decoded from a small copy; the block stays in the chunks it arrived in.
      const [cid] = CID.decodeFirst(await this.#bytes.peek(Math.min(length, maxCidBytes)));
      if (cid.bytes.length > length) throw new CarFeedError("section shorter than its CID");
      await this.#bytes.take(cid.bytes.length);
      const bytes = await this.#bytes.takeParts(length - cid.bytes.length);
      if (!partsMatch(cid, bytes)) throw new CarFeedError(`block ${cid} does not match`);
      if (this.#ahead >= maxAhead) throw new CarFeedError("too far ahead of the walk");
      const key = cid.toString();
      const queued = this.#ready.get(key);
      if (queued) queued.push(bytes);
      else this.#ready.set(key, [bytes]);
      this.#ahead++;
    } catch (error) {
      this.#end(error instanceof Error ? error : new CarFeedError(String(error)));
    }
  }

  #end(error: Error): void {
    if (this.#ended) return;
    this.#ended = error;
    // Lets go of the response: nothing more will be read from it.
    this.#bytes.close().catch(() => {});
  }
}

/** True when the pieces, in order, hash to the multihash in `cid`. */
function partsMatch(cid: CID, parts: readonly Uint8Array[]): boolean {
  const name = hashNames.get(cid.multihash.code);
  if (!name) throw new UnsupportedHashError(cid);
  const hash = createHash(name);
  for (const part of parts) hash.update(part);
  return Buffer.from(cid.multihash.digest).equals(hash.digest());
}

/**
 * Sends a byte range of a file to a writable (a socket) through two reused buffers: one is read
 * while the other is being written. Nothing is allocated per chunk, so a download neither makes
 * garbage for the GC nor grows the process, and it runs at page-cache speed.
 */
import { close, read } from "node:fs";
import type { Writable } from "node:stream";
import { promisify } from "node:util";

const readAsync = promisify(read);
const closeAsync = promisify(close);
const bufferSize = 2 << 20;
const smallestBuffer = 64 << 10;
/** Free buffers kept between downloads, in bytes over all sizes. */
const keptBytes = 16 << 20;

/**
 * Buffers reused across downloads, by power-of-two size. A fresh pair per request is external
 * memory V8 answers with full mark-compacts, which cost more the larger the heap is; reusing them
 * took a 1 MiB blob GET from about 4.9 to about 1.4 ms of server CPU.
 */
const free = new Map<number, Buffer[]>();
let freeBytes = 0;

function takeBuffer(size: number): Buffer {
  const buffer = free.get(size)?.pop();
  if (!buffer) return Buffer.allocUnsafeSlow(size);
  freeBytes -= size;
  return buffer;
}

function giveBack(buffers: Buffer[]): void {
  for (const buffer of buffers) {
    if (freeBytes + buffer.length > keptBytes) return;
    const list = free.get(buffer.length) ?? [];
    list.push(buffer);
    free.set(buffer.length, list);
    freeBytes += buffer.length;
  }
}

/** The buffer size for a range: the next power of two, between 64 KiB and 2 MiB. */
function sizeFor(length: number): number {
  let size = smallestBuffer;
  while (size < length && size < bufferSize) size *= 2;
  return size;
}

export class TruncatedFileError extends Error {
  constructor(position: number) {
    super(`file ended at byte ${position}, before the end of the requested range`);
    this.name = "TruncatedFileError";
  }
}

/** Writes bytes `start..end` (inclusive) of `fd` to `out`, then closes `fd`. Does not end `out`. */
export async function sendFileRange(
  fd: number,
  start: number,
  end: number,
  out: Writable,
): Promise<void> {
  // Small blobs (most layers of many images) need only small buffers.
  const size = sizeFor(end - start + 1);
  const buffers = [takeBuffer(size), takeBuffer(size)];
  let reusable = false;
  const inFlight: Array<Promise<void> | undefined> = [undefined, undefined];
  let closed = false;
  const onClose = () => {
    closed = true;
  };
  out.once("close", onClose);
  try {
    let position = start;
    for (let turn = 0; position <= end && !closed; turn ^= 1) {
      const buffer = buffers[turn] as Buffer;
      await inFlight[turn]; // the last write from this buffer has reached the kernel
      const wanted = Math.min(size, end - position + 1);
      const { bytesRead } = await readAsync(fd, buffer, 0, wanted, position);
      if (bytesRead === 0) throw new TruncatedFileError(position);
      position += bytesRead;
      let accepted = true;
      inFlight[turn] = new Promise<void>((resolve, reject) => {
        accepted = out.write(buffer.subarray(0, bytesRead), (error) =>
          error ? reject(error) : resolve(),
        );
      });
      inFlight[turn]?.catch(() => {});
      if (!accepted && !closed) {
        await drained(out);
      }
    }
    await Promise.all(inFlight);
    // Every write has called back: the socket holds no view of these buffers any more.
    reusable = true;
  } finally {
    if (reusable) giveBack(buffers);
    out.off("close", onClose);
    await closeAsync(fd).catch(() => {});
  }
}

/** Resolves when `out` has room again, or is gone. */
export function drained(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off("drain", done);
      out.off("close", done);
      resolve();
    };
    out.once("drain", done);
    out.once("close", done);
  });
}

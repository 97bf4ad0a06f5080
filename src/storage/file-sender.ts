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
  const size = Math.max(1, Math.min(bufferSize, end - start + 1));
  const buffers = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
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
        await new Promise<void>((resolve) => {
          const done = () => {
            out.off("drain", done);
            out.off("close", done);
            resolve();
          };
          out.once("drain", done);
          out.once("close", done);
        });
      }
    }
    await Promise.all(inFlight);
  } finally {
    out.off("close", onClose);
    await closeAsync(fd).catch(() => {});
  }
}

/** Ranged reads of blobs on the local filesystem, for zero-copy block serving. */
import { open, stat } from "node:fs/promises";
import type { BlobRangeReader } from "./types.ts";

export interface FsBlobRangeReaderDeps {
  /** Where a committed blob lives (FsBlobStore.blobPath); may throw for malformed digests. */
  blobPath(digest: string): string;
}

export class TruncatedBlobError extends Error {
  constructor(digest: string, offset: number, length: number) {
    super(`blob ${digest} ends before byte ${offset + length}`);
    this.name = "TruncatedBlobError";
  }
}

export class FsBlobRangeReader implements BlobRangeReader {
  readonly #blobPath: (digest: string) => string;

  constructor(deps: FsBlobRangeReaderDeps) {
    this.#blobPath = deps.blobPath;
  }

  async size(digest: string): Promise<number | undefined> {
    const path = this.#path(digest);
    if (!path) return undefined;
    try {
      return (await stat(path)).size;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async read(
    digest: string,
    offset: number,
    length: number,
    options: { signal?: AbortSignal } = {},
  ): Promise<Uint8Array | undefined> {
    const path = this.#path(digest);
    if (!path) return undefined;
    options.signal?.throwIfAborted();
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path, "r");
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    try {
      const buffer = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + filled);
        if (bytesRead === 0) throw new TruncatedBlobError(digest, offset, length);
        filled += bytesRead;
      }
      return buffer;
    } finally {
      await handle.close();
    }
  }

  #path(digest: string): string | undefined {
    try {
      return this.#blobPath(digest);
    } catch {
      return undefined;
    }
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === "ENOENT";
}

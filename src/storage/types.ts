/** Blob storage, split by capability as distribution splits it: stat, serve, ingest, delete. */
import type { Readable, Writable } from "node:stream";

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export interface BlobStat {
  size: number;
}

export interface BlobReader {
  /** Size of a committed blob, or undefined when the store does not hold it. */
  stat(digest: string): Promise<BlobStat | undefined>;
  /** A stream of the blob's bytes (or of one range of them). Throws BlobNotFoundError. */
  open(digest: string, range?: ByteRange): Promise<Readable>;
}

export interface BlobServer {
  /**
   * Writes a blob (or one range of it) to `out` without ending it; the fast path for downloads.
   * Throws BlobNotFoundError before writing anything when the blob is missing.
   */
  serve(digest: string, out: Writable, range?: ByteRange): Promise<void>;
}

export interface UploadWriter {
  /** Creates an empty upload area. */
  createUpload(id: string): Promise<void>;
  /** Bytes held by an upload so far, or undefined if it does not exist. */
  uploadSize(id: string): Promise<number | undefined>;
  /**
   * Appends a stream to an upload. Resolves with the bytes written; on error or abort the upload
   * keeps whatever reached the file, and `uploadSize` tells how much that is. Throws
   * UploadNotFoundError when the upload does not exist (also for `commitUpload`).
   */
  appendUpload(id: string, source: Readable, options?: { signal?: AbortSignal }): Promise<number>;
  /** Reads the upload's bytes back (to rebuild a digest after a restart); ENOENT if it is gone. */
  readUpload(id: string): Readable;
  /** Makes an upload durable and moves it into place as `digest`; a no-op copy if it exists. */
  commitUpload(id: string, digest: string): Promise<void>;
  deleteUpload(id: string): Promise<void>;
}

export interface BlobWriter {
  /** Stores small content (manifests) atomically under its digest. */
  putBlob(digest: string, bytes: Uint8Array): Promise<void>;
  deleteBlob(digest: string): Promise<void>;
}

export interface BlobLister {
  /** Every committed digest, for garbage collection and audits. */
  listBlobs(): AsyncIterable<string>;
}

export interface BlobStore extends BlobReader, BlobServer, UploadWriter, BlobWriter, BlobLister {
  close(): Promise<void>;
}

export class BlobNotFoundError extends Error {
  readonly digest: string;
  constructor(digest: string) {
    super(`blob ${digest} not found in storage`);
    this.digest = digest;
    this.name = "BlobNotFoundError";
  }
}

export class UploadNotFoundError extends Error {
  readonly id: string;
  constructor(id: string) {
    super(`upload ${id} not found in storage`);
    this.name = "UploadNotFoundError";
    this.id = id;
  }
}

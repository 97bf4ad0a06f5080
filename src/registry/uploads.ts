/** Blob uploads: monolithic, chunked and streamed, resumable after a reconnect or a restart. */
import type { Hash } from "node:crypto";
import { randomUUID } from "node:crypto";
import { pipeline as pipe, type Readable, Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Logger } from "../log/index.ts";
import type { MetaStore } from "../meta/index.ts";
import { type BlobStore, UploadNotFoundError } from "../storage/index.ts";
import { newHash, parseDigest } from "./digest.ts";
import {
  BlobUploadInvalidError,
  BlobUploadUnknownError,
  DigestInvalidError,
  RangeInvalidError,
} from "./errors.ts";
import type { RegistryEvents } from "./events.ts";

export interface UploadStatus {
  id: string;
  repository: string;
  /** Bytes received so far. */
  offset: number;
}

export interface AppendOptions {
  /** `Content-Range` of a chunk: where the client believes it starts and ends (inclusive). */
  range?: { start: number; end: number };
  /** `Content-Length` if the client sent one. */
  length?: number;
  signal?: AbortSignal;
}

interface HashState {
  hash: Hash;
  offset: number;
}

/** Namespace quotas as uploads and mounts see them (implemented in src/lifecycle/quota.ts). */
export interface QuotaGate {
  /** Bytes the repository's namespace may still grow by; undefined without a quota. */
  remaining(repository: string): Promise<number | undefined>;
  /**
   * Throws DENIED if `size` more bytes take the namespace over its quota (nothing, when the
   * namespace already holds `digest`: a blob counts once).
   */
  check(repository: string, size: number, digest?: string): Promise<void>;
  /** Links a blob within the quota (checked in the same transaction); throws DENIED when over. */
  link(repository: string, digest: string, size: number): Promise<void>;
}

export interface UploadServiceDeps {
  blobs: BlobStore;
  meta: MetaStore;
  events: RegistryEvents;
  log: Logger;
}

export class UploadService {
  readonly #deps: UploadServiceDeps;
  /** Running sha256 of each upload; rebuilt from the file when missing (after a restart). */
  readonly #hashes = new Map<string, HashState>();
  readonly #busy = new Set<string>();
  #quota: QuotaGate | undefined;

  constructor(deps: UploadServiceDeps) {
    this.#deps = deps;
  }

  /** Enforces namespace quotas on completion, and stops a body that already exceeds one. */
  limitWith(quota: QuotaGate): void {
    this.#quota = quota;
  }

  async start(repository: string): Promise<UploadStatus> {
    const id = randomUUID();
    const now = Date.now();
    // The row first: a crash before the file exists leaves a row that reads as unknown and expires;
    // the other order would leave a file no row names, which could neither resume nor expire.
    await this.#deps.meta.createUpload({ id, repository, createdAt: now, updatedAt: now });
    try {
      await this.#deps.blobs.createUpload(id);
    } catch (error) {
      await this.#deps.meta.deleteUpload(id);
      throw error;
    }
    this.#hashes.set(id, { hash: newHash(), offset: 0 });
    return { id, repository, offset: 0 };
  }

  async status(repository: string, id: string): Promise<UploadStatus> {
    await this.#record(repository, id);
    const offset = await this.#deps.blobs.uploadSize(id);
    if (offset === undefined) throw new BlobUploadUnknownError(id);
    return { id, repository, offset };
  }

  /** Appends a chunk (PATCH); with a range, the chunk must start where the upload ends. */
  async append(
    repository: string,
    id: string,
    body: Readable,
    options: AppendOptions = {},
  ): Promise<UploadStatus> {
    return this.#exclusive(id, async () => {
      const current = await this.status(repository, id);
      await this.#appendChecked(current, body, options);
      return this.status(repository, id);
    });
  }

  /** Finishes an upload (PUT ?digest=), with an optional last chunk, and commits the blob. */
  async complete(
    repository: string,
    id: string,
    digest: string,
    body: Readable | undefined,
    options: AppendOptions = {},
  ): Promise<{ digest: string; size: number }> {
    const parsed = parseDigest(digest);
    return this.#exclusive(id, async () => {
      const current = await this.status(repository, id);
      if (body) await this.#appendChecked(current, body, options);
      const state = await this.#hashState(id);
      let actual: string;
      if (parsed.algorithm === "sha256") {
        actual = `sha256:${state.hash.copy().digest("hex")}`;
      } else {
        const hash = newHash(parsed.algorithm);
        await pipeline(this.#deps.blobs.readUpload(id), hashInto(hash));
        actual = `${parsed.algorithm}:${hash.digest("hex")}`;
      }
      if (actual !== parsed.digest) {
        await this.#discard(id);
        throw new DigestInvalidError(
          `provided digest does not match uploaded content (got ${actual})`,
          parsed.digest,
        );
      }
      const size = state.offset;
      const quota = this.#quota;
      if (quota) await this.#refusing(id, () => quota.check(repository, size, parsed.digest));
      // The digest is recorded before the bytes move into place: GC re-checks it after moving a
      // file aside, so a sweep racing this commit puts the file back (src/lifecycle/gc.ts).
      await this.#deps.meta.markUploadDigest(id, parsed.digest);
      await this.#deps.blobs.commitUpload(id, parsed.digest);
      if (quota) await this.#refusing(id, () => quota.link(repository, parsed.digest, size));
      else await this.#deps.meta.linkBlob(repository, parsed.digest, size);
      await this.#deps.meta.deleteUpload(id);
      this.#hashes.delete(id);
      this.#deps.log.debug({ repository, digest: parsed.digest, size }, "blob committed");
      this.#deps.events.emit("blob.committed", { repository, digest: parsed.digest, size });
      return { digest: parsed.digest, size };
    });
  }

  /** Monolithic upload (POST ?digest=): start, write and commit in one request. */
  async monolithic(
    repository: string,
    digest: string,
    body: Readable,
    options: AppendOptions = {},
  ): Promise<{ digest: string; size: number }> {
    parseDigest(digest);
    const upload = await this.start(repository);
    try {
      return await this.complete(repository, upload.id, digest, body, options);
    } catch (error) {
      await this.#discard(upload.id);
      throw error;
    }
  }

  async cancel(repository: string, id: string): Promise<void> {
    await this.#exclusive(id, async () => {
      await this.#record(repository, id);
      await this.#discard(id);
    });
  }

  /** Removes uploads untouched since `before` (ms since epoch); returns how many went. */
  async purgeStale(before: number): Promise<number> {
    const stale = await this.#deps.meta.uploadsUpdatedBefore(before);
    for (const upload of stale) {
      if (!this.#busy.has(upload.id)) await this.#discard(upload.id);
    }
    return stale.length;
  }

  /** Runs a quota check; a refusal ends the upload (a committed file nothing names is GC's). */
  async #refusing(id: string, check: () => Promise<void>): Promise<void> {
    try {
      await check();
    } catch (error) {
      await this.#discard(id);
      throw error;
    }
  }

  async #record(repository: string, id: string) {
    const record = await this.#deps.meta.getUpload(id);
    if (!record || record.repository !== repository) throw new BlobUploadUnknownError(id);
    return record;
  }

  async #appendChecked(
    current: UploadStatus,
    body: Readable,
    options: AppendOptions,
  ): Promise<void> {
    const { range, length } = options;
    if (range) {
      if (range.start !== current.offset) {
        throw new RangeInvalidError(
          `chunk starts at ${range.start} but the upload has ${current.offset} bytes`,
          uploadHeaders(current),
        );
      }
      if (length !== undefined && range.end - range.start + 1 !== length) {
        throw new RangeInvalidError(
          "Content-Range does not match Content-Length",
          uploadHeaders(current),
        );
      }
    }
    const state = await this.#hashState(current.id);
    // What the namespace may still take: a body that outgrows it is cut, not stored to the end.
    const quota = this.#quota;
    const budget = await quota?.remaining(current.repository);
    let room = budget === undefined ? Number.POSITIVE_INFINITY : budget - current.offset;
    if (quota && length !== undefined && length > room)
      await quota.check(current.repository, current.offset + length);
    let written = 0;
    const hasher = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        const accept = () => {
          state.hash.update(chunk);
          written += chunk.length;
          callback(null, chunk);
        };
        if (quota && written + chunk.length > room) {
          // Ask again before refusing: a GC or a deletion may have made room meanwhile.
          quota.check(current.repository, current.offset + written + chunk.length).then(() => {
            room = Number.POSITIVE_INFINITY;
            accept();
          }, callback);
          return;
        }
        accept();
      },
    });
    // pipeline() carries a client's disconnect from the request body into the hashing stream.
    const hashed = pipe(body, hasher, () => {});
    try {
      await this.#deps.blobs.appendUpload(current.id, hashed, { signal: options.signal });
    } catch (error) {
      // The file keeps what arrived; the running hash may be ahead of it, so rebuild it next time.
      this.#hashes.delete(current.id);
      await this.#deps.meta.touchUpload(current.id, Date.now());
      throw error;
    }
    state.offset += written;
    await this.#deps.meta.touchUpload(current.id, Date.now());
    const expected = range ? range.end - range.start + 1 : length;
    if (expected !== undefined && expected !== written) {
      throw new BlobUploadInvalidError(
        `chunk declared ${expected} bytes but ${written} arrived`,
        uploadHeaders({ ...current, offset: current.offset + written }),
      );
    }
  }

  async #hashState(id: string): Promise<HashState> {
    const size = (await this.#deps.blobs.uploadSize(id)) ?? 0;
    const known = this.#hashes.get(id);
    if (known && known.offset === size) return known;
    const hash = newHash();
    await pipeline(this.#deps.blobs.readUpload(id), hashInto(hash));
    const state = { hash, offset: size };
    this.#hashes.set(id, state);
    return state;
  }

  async #discard(id: string): Promise<void> {
    this.#hashes.delete(id);
    await this.#deps.blobs.deleteUpload(id);
    await this.#deps.meta.deleteUpload(id);
  }

  /**
   * One request at a time per upload. An upload that vanished underneath (cancelled or expired by
   * another process) reads as unknown, never as a server error.
   */
  async #exclusive<T>(id: string, work: () => Promise<T>): Promise<T> {
    if (this.#busy.has(id)) {
      throw new BlobUploadInvalidError("another request is using this upload");
    }
    this.#busy.add(id);
    try {
      return await work();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (error instanceof UploadNotFoundError || code === "ENOENT")
        throw new BlobUploadUnknownError(id);
      throw error;
    } finally {
      this.#busy.delete(id);
    }
  }
}

/** The headers that tell a client where an upload stands. */
export function uploadHeaders(status: UploadStatus): Record<string, string> {
  return {
    Location: `/v2/${status.repository}/blobs/uploads/${status.id}`,
    Range: `0-${Math.max(0, status.offset - 1)}`,
    "Docker-Upload-UUID": status.id,
  };
}

function hashInto(hash: Hash): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback();
    },
  });
}

/** Reading, mounting and deleting blobs within a repository. */
import type { Writable } from "node:stream";
import type { Logger } from "../log/index.ts";
import type { MetaStore } from "../meta/index.ts";
import { BlobNotFoundError, type BlobStore, type ByteRange } from "../storage/index.ts";
import type { BlobSource } from "./blob-sources.ts";
import { parseDigest } from "./digest.ts";
import { BlobUnknownError } from "./errors.ts";
import type { RegistryEvents } from "./events.ts";

export interface BlobServiceDeps {
  blobs: BlobStore;
  meta: MetaStore;
  events: RegistryEvents;
  log: Logger;
}

/**
 * Brings back the bytes of a blob whose metadata the registry has but whose file it lacks (mirrors,
 * or a disk that lost a file): it stores them, verified, and resolves true, or resolves false.
 */
export type BlobRestorer = (
  repository: string,
  digest: string,
  size: number,
  signal?: AbortSignal,
) => Promise<boolean>;

export class BlobService {
  readonly #deps: BlobServiceDeps;
  #restore: BlobRestorer | undefined;
  readonly #sources: BlobSource[] = [];

  constructor(deps: BlobServiceDeps) {
    this.#deps = deps;
  }

  /** Size of a blob visible in the repository; throws BLOB_UNKNOWN otherwise. */
  async stat(repository: string, digest: string): Promise<{ digest: string; size: number }> {
    parseDigest(digest);
    const size = await this.#deps.meta.linkedBlobSize(repository, digest);
    if (size === undefined) throw new BlobUnknownError(digest);
    return { digest, size };
  }

  /**
   * Adds a place to fetch blobs from (IPFS peers, a mirror's origin) when a pull finds a blob the
   * repository should have but whose bytes are not here; sources are tried in the order added.
   */
  addSource(source: BlobSource): void {
    this.#sources.push(source);
  }

  /** Lets an extension (IPFS) restore missing bytes; the registry itself knows no such source. */
  restoreWith(restorer: BlobRestorer): void {
    this.#restore = restorer;
  }

  /**
   * Makes sure the bytes of a linked blob are in storage, asking the restorer when they are not;
   * call before sending headers, so a blob that cannot be had is a clean 404.
   */
  async ensureLocal(
    repository: string,
    digest: string,
    signal?: AbortSignal,
  ): Promise<{ digest: string; size: number }> {
    const found = await this.stat(repository, digest);
    if (await this.#deps.blobs.stat(digest)) return found;
    if (this.#restore && (await this.#restore(repository, digest, found.size, signal)))
      return found;
    this.#deps.log.warn({ repository, digest }, "blob is linked but its bytes are missing");
    throw new BlobUnknownError(digest);
  }

  /**
   * Writes a blob (whole or one range) to `out`, without ending it. Call it after `ensureLocal`,
   * which checked that the repository holds the blob; the download path asks that only once.
   */
  async serve(repository: string, digest: string, out: Writable, range?: ByteRange): Promise<void> {
    try {
      await this.#deps.blobs.serve(digest, out, range);
    } catch (error) {
      if (error instanceof BlobNotFoundError) {
        this.#deps.log.error({ repository, digest }, "blob is linked but missing from storage");
        throw new BlobUnknownError(digest);
      }
      throw error;
    }
  }

  /** Links a blob that `from` holds into `repository` (cross-repository mount); undefined if it cannot. */
  async mount(
    repository: string,
    digest: string,
    from: string,
  ): Promise<{ digest: string; size: number } | undefined> {
    parseDigest(digest);
    const size = await this.#deps.meta.linkedBlobSize(from, digest);
    if (size === undefined) return undefined;
    if (!(await this.#deps.blobs.stat(digest))) return undefined;
    await this.#deps.meta.linkBlob(repository, digest, size);
    return { digest, size };
  }

  /** Repositories that hold a blob (mount candidates when a client names no source). */
  async holders(digest: string): Promise<string[]> {
    parseDigest(digest);
    return this.#deps.meta.repositoriesWithBlob(digest, 50);
  }

  /** Unlinks a blob from the repository; the bytes stay until garbage collection. */
  async delete(repository: string, digest: string): Promise<void> {
    parseDigest(digest);
    if (!(await this.#deps.meta.unlinkBlob(repository, digest))) throw new BlobUnknownError(digest);
    this.#deps.events.emit("blob.deleted", { repository, digest });
  }
}

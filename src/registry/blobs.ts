/** Reading, mounting and deleting blobs within a repository. */
import type { Writable } from "node:stream";
import { buffer } from "node:stream/consumers";
import type { Logger } from "../log/index.ts";
import type { MetaStore } from "../meta/index.ts";
import { BlobNotFoundError, type BlobStore, type ByteRange } from "../storage/index.ts";
import { BlobFills, type JoinMode } from "./blob-fill.ts";
import type { BlobSource, BlobSourceRequest } from "./blob-sources.ts";
import { parseDigest } from "./digest.ts";
import { BlobUnknownError } from "./errors.ts";
import type { RegistryEvents } from "./events.ts";
import type { QuotaGate } from "./uploads.ts";

export interface BlobServiceDeps {
  blobs: BlobStore;
  meta: MetaStore;
  events: RegistryEvents;
  log: Logger;
}

/** A blob ready to be sent: stored here, or being fetched from a source. */
export interface BlobBody {
  digest: string;
  /** Undefined only while a fetch of unknown length runs (no Content-Length then). */
  size: number | undefined;
  /**
   * Writes the blob (or one range) to `out` without ending it. While a fetch runs, bytes go out
   * as they arrive and the promise rejects when they turn out wrong: cut the connection then.
   */
  write(out: Writable, range?: ByteRange): Promise<void>;
  /** Call when the response will not send the body (HEAD, 304, a refused range). */
  release(): void;
}

export interface OpenOptions {
  signal?: AbortSignal;
  /**
   * `stream` (a whole-blob GET) may take bytes as a fetch brings them; `head` needs only the
   * size; `wait` (a range) is answered from storage once a fetch finished. Default `stream`.
   */
  mode?: JoinMode;
}

export class BlobService {
  readonly #deps: BlobServiceDeps;
  readonly #sources: BlobSource[] = [];
  readonly #fills: BlobFills;
  #quota: QuotaGate | undefined;

  constructor(deps: BlobServiceDeps) {
    this.#deps = deps;
    this.#fills = new BlobFills(deps);
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

  /**
   * A blob of the repository, ready to send; call before sending headers, so a blob that cannot
   * be had is a clean BLOB_UNKNOWN. A blob linked here whose file is missing, or one a manifest of
   * the repository refers to but that was never linked (a mirror), is fetched from the sources.
   */
  async open(repository: string, digest: string, options: OpenOptions = {}): Promise<BlobBody> {
    parseDigest(digest);
    const linked = await this.#deps.meta.linkedBlobSize(repository, digest);
    if (linked !== undefined && (await this.#deps.blobs.stat(digest)))
      return this.#stored(repository, digest, linked);
    let size = linked;
    if (linked === undefined) {
      // Bytes another repository holds are not used here: a manifest naming a digest is no proof
      // its author had the blob, so it comes from a source and is checked like any fetch.
      const manifest = await this.#deps.meta.referencedBlob(repository, digest);
      if (!manifest) throw new BlobUnknownError(digest);
      size = await this.#sizeIn(manifest, digest);
    } else if (this.#sources.length === 0) {
      this.#deps.log.warn({ repository, digest }, "blob is linked but its bytes are missing");
    }
    return this.openFrom({ repository, digest, size }, this.#sources, options);
  }

  /**
   * Fetches a blob the caller has decided the repository may have (pull by CID checked it is part
   * of the image) from the given sources, linking it into the repository once verified.
   */
  async openFrom(
    request: BlobSourceRequest,
    sources: readonly BlobSource[],
    options: OpenOptions = {},
  ): Promise<BlobBody> {
    const { repository, digest } = request;
    const joined = await this.#fills.join(
      request,
      sources,
      options.mode ?? "stream",
      options.signal,
    );
    if (joined.kind === "stored") return this.#stored(repository, digest, joined.size);
    if (joined.kind === "head") {
      return { digest, size: joined.size, write: () => Promise.resolve(), release: () => {} };
    }
    const { tap } = joined;
    return {
      digest,
      size: joined.size,
      write: (out, range) => {
        if (!range) return tap.attach(out);
        // Ranges are opened with mode "wait"; a fetch in flight cannot serve one.
        tap.release();
        return Promise.reject(new BlobUnknownError(digest));
      },
      release: () => tap.release(),
    };
  }

  #stored(repository: string, digest: string, size: number): BlobBody {
    return {
      digest,
      size,
      write: (out, range) => this.serve(repository, digest, out, range),
      release: () => {},
    };
  }

  /** The size a stored manifest gives a blob it refers to, if the manifest is here to read. */
  async #sizeIn(manifest: string, digest: string): Promise<number | undefined> {
    try {
      const json = JSON.parse((await buffer(await this.#deps.blobs.open(manifest))).toString());
      const descriptors = [json.config, ...(Array.isArray(json.layers) ? json.layers : [])];
      const size = descriptors.find((d) => d?.digest === digest)?.size;
      return Number.isSafeInteger(size) && size >= 0 ? size : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Writes a stored blob (whole or one range) to `out`, without ending it. Call it after `open`,
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
    if (this.#quota) await this.#quota.link(repository, digest, size);
    else await this.#deps.meta.linkBlob(repository, digest, size);
    // Linked first, looked at second: a GC sweep that moved the file aside meanwhile either sees
    // the link and puts it back, or is seen here (src/lifecycle/gc.ts).
    if (!(await this.#deps.blobs.stat(digest))) {
      await this.#deps.meta.unlinkBlob(repository, digest);
      return undefined;
    }
    return { digest, size };
  }

  /** Enforces namespace quotas on mounts (cross-repository links). */
  limitWith(quota: QuotaGate): void {
    this.#quota = quota;
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

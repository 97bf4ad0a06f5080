/**
 * Fetching a missing blob from a source while clients download it: the bytes go through the hash
 * into an upload file and to every client that joined before the first byte, at once. Only when
 * the digest matches is the file committed and linked. A client never gets a complete-looking
 * wrong body: with a known length the last chunk is held back until the digest is checked, and a
 * failure cuts the connection. One fetch per digest; clients that come late wait for it.
 */
import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { Readable } from "node:stream";
import type { Logger } from "../log/index.ts";
import type { MetaStore } from "../meta/index.ts";
import type { BlobStore } from "../storage/index.ts";
import type { BlobSource, BlobSourceRequest, BlobSourceStream } from "./blob-sources.ts";
import { broadcast, startFlowing, Tap, type TapSet } from "./blob-taps.ts";
import { newHash, parseDigest } from "./digest.ts";
import { BlobUnknownError } from "./errors.ts";
import type { RegistryEvents } from "./events.ts";

/** A source that sent wrong bytes for a digest is skipped for that digest this long. */
const badSourceMs = 10 * 60_000;
/** Upload files a fetch writes; the prefix tells them from client uploads in logs. */
const uploadPrefix = "fill-";

export class SourceBytesMismatchError extends Error {
  constructor(source: string, digest: string, reason: string) {
    super(`source ${source} sent wrong bytes for ${digest}: ${reason}`);
    this.name = "SourceBytesMismatchError";
  }
}

export interface BlobFillDeps {
  blobs: BlobStore;
  meta: MetaStore;
  events: RegistryEvents;
  log: Logger;
}

/** How a request takes part: stream the bytes, learn the size only (HEAD), or wait for storage. */
export type JoinMode = "stream" | "head" | "wait";

/** What joining gives: a stream of the fetch, or the blob already stored. */
export type Joined =
  | { kind: "tap"; size: number | undefined; tap: Tap }
  | { kind: "head"; size: number | undefined }
  | { kind: "stored"; size: number };

class Fill implements TapSet {
  readonly repositories = new Set<string>();
  readonly taps = new Set<Tap>();
  /** Once bytes flow, a new request cannot get them from the start: it waits instead. */
  flowing = false;
  readonly opened = Promise.withResolvers<number | undefined>();
  readonly done = Promise.withResolvers<number>();

  constructor() {
    this.opened.promise.catch(() => {});
    this.done.promise.catch(() => {});
  }
}

export class BlobFills {
  readonly #deps: BlobFillDeps;
  readonly #active = new Map<string, Fill>();
  /** digest → source → until when that source is not asked for it again. */
  readonly #bad = new Map<string, Map<BlobSource, number>>();

  constructor(deps: BlobFillDeps) {
    this.#deps = deps;
  }

  /**
   * Takes part in the fetch of a blob, starting one from `sources` if none runs. Throws
   * BLOB_UNKNOWN when no source has the blob; a fetch that fails after bytes flowed is retried
   * for waiting requests with the sources left.
   */
  async join(
    request: BlobSourceRequest,
    sources: readonly BlobSource[],
    mode: JoinMode,
    signal?: AbortSignal,
  ): Promise<Joined> {
    for (let attempt = 0; ; attempt++) {
      const fill = this.#active.get(request.digest) ?? this.#start(request, sources);
      fill.repositories.add(request.repository);
      if (mode === "head") return { kind: "head", size: await until(fill.opened.promise, signal) };
      if (mode === "stream" && !fill.flowing) {
        const tap = new Tap();
        fill.taps.add(tap);
        try {
          return { kind: "tap", size: await until(fill.opened.promise, signal), tap };
        } catch (error) {
          fill.taps.delete(tap);
          tap.release();
          throw error;
        }
      }
      try {
        const size = await until(fill.done.promise, signal);
        await this.#deps.meta.linkBlob(request.repository, request.digest, size);
        return { kind: "stored", size };
      } catch (error) {
        if (!(error instanceof SourceBytesMismatchError) || attempt >= sources.length) throw error;
      }
    }
  }

  #start(request: BlobSourceRequest, sources: readonly BlobSource[]): Fill {
    const fill = new Fill();
    fill.repositories.add(request.repository);
    this.#active.set(request.digest, fill);
    // The fill leaves the table before anyone hears how it ended, so a retry starts a new one.
    this.#run(fill, request, sources).then(
      (size) => {
        this.#active.delete(request.digest);
        fill.done.resolve(size);
      },
      (error) => {
        this.#active.delete(request.digest);
        fill.opened.reject(error);
        fill.done.reject(error);
        for (const tap of fill.taps) tap.finish(error);
      },
    );
    return fill;
  }

  async #run(
    fill: Fill,
    request: BlobSourceRequest,
    sources: readonly BlobSource[],
  ): Promise<number> {
    const log = this.#deps.log.child({ digest: request.digest });
    const found = await this.#open(request, sources, log);
    if (!found) throw new BlobUnknownError(request.digest);
    const { source, opened } = found;
    const declared = request.size ?? opened.size;
    fill.opened.resolve(declared);
    log.info({ source: source.name, size: declared }, "fetching missing blob");
    const { blobs, meta } = this.#deps;
    const id = `${uploadPrefix}${randomUUID()}`;
    const now = Date.now();
    await blobs.createUpload(id);
    // Recorded like a client's upload, so a crash mid-fetch leaves nothing the purge misses.
    await meta.createUpload({ id, repository: request.repository, createdAt: now, updatedAt: now });
    const algorithm = parseDigest(request.digest).algorithm;
    const hash = newHash(algorithm);
    let total = 0;
    let held: Uint8Array | undefined;
    const mismatch = (reason: string) =>
      new SourceBytesMismatchError(source.name, request.digest, reason);
    async function* tee(): AsyncGenerator<Uint8Array> {
      await startFlowing(fill);
      for await (const chunk of opened.stream) {
        if (chunk.length === 0) continue;
        total += chunk.length;
        if (declared !== undefined && total > declared)
          throw mismatch(`more than ${declared} bytes`);
        hash.update(chunk);
        // The chunk that completes a declared length waits for the digest check: the client
        // would take a full Content-Length of bytes for the blob.
        if (declared !== undefined && total === declared) held = chunk;
        else await broadcast(fill, chunk);
        yield chunk;
      }
    }
    try {
      await blobs.appendUpload(
        id,
        Readable.from(tee(), { objectMode: false, highWaterMark: 1 << 20 }),
      );
      if (declared !== undefined && total !== declared)
        throw mismatch(`${total} bytes, not ${declared}`);
      const actual = `${algorithm}:${hash.digest("hex")}`;
      if (actual !== request.digest) {
        this.#markBad(request.digest, source);
        throw mismatch(`digest ${actual}`);
      }
      opened.matched?.();
      if (held) await broadcast(fill, held);
      for (const tap of fill.taps) tap.finish();
      await blobs.commitUpload(id, request.digest);
      for (const repository of fill.repositories) {
        await meta.linkBlob(repository, request.digest, total);
      }
      await meta.deleteUpload(id);
      log.info({ source: source.name, size: total }, "fetched missing blob");
      for (const repository of fill.repositories) {
        this.#deps.events.emit("blob.committed", {
          repository,
          digest: request.digest,
          size: total,
        });
      }
      return total;
    } catch (error) {
      log.warn({ source: source.name, err: String(error) }, "fetch of missing blob failed");
      await blobs.deleteUpload(id).catch(() => {});
      await meta.deleteUpload(id).catch(() => {});
      throw error;
    }
  }

  /** The first source, in order, that offers the blob with a size that fits. */
  async #open(
    request: BlobSourceRequest,
    sources: readonly BlobSource[],
    log: Logger,
  ): Promise<{ source: BlobSource; opened: BlobSourceStream } | undefined> {
    for (const source of sources) {
      if (this.#isBad(request.digest, source)) continue;
      try {
        const opened = await source.open(request);
        if (!opened) continue;
        if (
          request.size !== undefined &&
          opened.size !== undefined &&
          opened.size !== request.size
        ) {
          log.warn({ source: source.name, size: opened.size }, "source offers the wrong size");
          await opened.stream[Symbol.asyncIterator]().return?.();
          continue;
        }
        return { source, opened };
      } catch (error) {
        log.warn({ source: source.name, err: String(error) }, "source failed");
      }
    }
    return undefined;
  }

  #isBad(digest: string, source: BlobSource): boolean {
    return (this.#bad.get(digest)?.get(source) ?? 0) > Date.now();
  }

  #markBad(digest: string, source: BlobSource): void {
    if (this.#bad.size >= 1000) this.#bad.clear();
    const sources = this.#bad.get(digest) ?? new Map<BlobSource, number>();
    sources.set(source, Date.now() + badSourceMs);
    this.#bad.set(digest, sources);
  }
}

function until<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  setMaxListeners(Number.POSITIVE_INFINITY, signal);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

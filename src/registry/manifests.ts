/** Manifests, tags and referrers: push with full verification, content negotiation, deletion. */
import { buffer } from "node:stream/consumers";
import type { Logger } from "../log/index.ts";
import {
  type ManifestRecord,
  type ManifestReference,
  type MetaStore,
  MissingBlobLinkError,
} from "../meta/index.ts";
import { BlobNotFoundError, type BlobStore } from "../storage/index.ts";
import { digestOf, isDigestReference, parseDigest } from "./digest.ts";
import {
  DigestInvalidError,
  ManifestBlobUnknownError,
  ManifestInvalidError,
  ManifestTooLargeError,
  ManifestUnknownError,
  NameUnknownError,
} from "./errors.ts";
import type { RegistryEvents } from "./events.ts";
import { ByteLru } from "./lru.ts";
import { type Descriptor, type ParsedManifest, parseManifest } from "./manifest-parser.ts";
import { manifestKinds, mediaTypes } from "./media-types.ts";
import { checkTag } from "./names.ts";

export interface ManifestServiceDeps {
  blobs: BlobStore;
  meta: MetaStore;
  events: RegistryEvents;
  log: Logger;
}

export interface ManifestServiceOptions {
  maxManifestBytes: number;
  cacheBytes: number;
}

export interface StoredManifest {
  digest: string;
  mediaType: string;
  bytes: Uint8Array;
  subject?: string;
}

export interface PageRequest {
  last?: string;
  limit: number;
}

export class ManifestService {
  readonly #deps: ManifestServiceDeps;
  readonly #options: ManifestServiceOptions;
  readonly #cache: ByteLru<Uint8Array>;

  constructor(deps: ManifestServiceDeps, options: ManifestServiceOptions) {
    this.#deps = deps;
    this.#options = options;
    this.#cache = new ByteLru(options.cacheBytes);
  }

  get maxManifestBytes(): number {
    return this.#options.maxManifestBytes;
  }

  /** Verifies and stores a manifest under a tag or digest reference. */
  async put(
    repository: string,
    reference: string,
    bytes: Uint8Array,
    contentType: string | undefined,
  ): Promise<StoredManifest> {
    if (bytes.byteLength > this.#options.maxManifestBytes) {
      throw new ManifestTooLargeError(this.#options.maxManifestBytes);
    }
    const byDigest = isDigestReference(reference);
    const expected = byDigest ? parseDigest(reference) : undefined;
    const tag = byDigest ? undefined : checkTag(reference);
    const parsed = parseManifest(bytes, contentType);
    const digest = digestOf(bytes, expected?.algorithm);
    if (expected && expected.digest !== digest) {
      throw new DigestInvalidError(
        `manifest digest ${digest} does not match reference ${expected.digest}`,
        expected.digest,
      );
    }

    const references: ManifestReference[] = [];
    for (const blob of parsed.blobs) {
      await this.#requireBlob(repository, blob);
      references.push({ digest: blob.digest, kind: "blob" });
    }
    for (const child of parsed.manifests) {
      const known = await this.#deps.meta.getManifest(repository, child.digest);
      if (!known) throw new ManifestBlobUnknownError(child.digest);
      references.push({ digest: child.digest, kind: "manifest" });
    }

    return this.#commit(repository, digest, bytes, parsed, references, tag, true);
  }

  /**
   * Stores a manifest whose bytes were already checked against `digest` and parsed, with its
   * blobs still to come (a mirror fetches them on first pull): the same rows, bytes, cache and
   * event as a push, without requiring the blobs to be linked.
   */
  putVerified(
    repository: string,
    digest: string,
    bytes: Uint8Array,
    parsed: ParsedManifest,
    tag: string | undefined,
  ): Promise<StoredManifest> {
    const references: ManifestReference[] = [
      ...parsed.blobs.map((b) => ({ digest: b.digest, kind: "blob" as const })),
      ...parsed.manifests.map((m) => ({ digest: m.digest, kind: "manifest" as const })),
    ];
    return this.#commit(repository, digest, bytes, parsed, references, tag, false);
  }

  async #commit(
    repository: string,
    digest: string,
    bytes: Uint8Array,
    parsed: ParsedManifest,
    references: ManifestReference[],
    tag: string | undefined,
    requireLinkedBlobs: boolean,
  ): Promise<StoredManifest> {
    await this.#deps.blobs.putBlob(digest, bytes);
    const record: ManifestRecord = {
      repository,
      digest,
      mediaType: parsed.mediaType,
      size: bytes.byteLength,
      artifactType: parsed.artifactType,
      subject: parsed.subject?.digest,
      annotations: parsed.annotations,
    };
    let previousDigest: string | undefined;
    try {
      ({ previousDigest } = await this.#deps.meta.putManifest(record, references, tag, {
        requireLinkedBlobs,
      }));
    } catch (error) {
      // GC unlinked a blob between the caller's check and this transaction.
      if (error instanceof MissingBlobLinkError) throw new ManifestBlobUnknownError(error.digest);
      throw error;
    }
    // Rows first, then a look at the bytes: a GC sweep that took an unnamed file with this digest
    // away just before the rows landed is seen here, and the bytes are written again.
    if (!(await this.#deps.blobs.stat(digest))) await this.#deps.blobs.putBlob(digest, bytes);
    this.#cache.set(digest, bytes);
    this.#deps.log.debug({ repository, digest, tag }, "manifest pushed");
    this.#deps.events.emit("manifest.pushed", {
      repository,
      digest,
      mediaType: parsed.mediaType,
      size: bytes.byteLength,
      tag,
      previousDigest: previousDigest !== digest ? previousDigest : undefined,
      subject: record.subject,
    });
    return { digest, mediaType: parsed.mediaType, bytes, subject: record.subject };
  }

  /** Drops a manifest's bytes from the cache (GC deleted it). */
  forget(digest: string): void {
    this.#cache.delete(digest);
  }

  /** Resolves a tag or digest to the stored manifest's metadata. */
  async resolve(repository: string, reference: string): Promise<ManifestRecord> {
    let digest: string | undefined;
    if (isDigestReference(reference)) {
      digest = parseDigest(reference).digest;
    } else {
      digest = await this.#deps.meta.resolveTag(repository, checkTag(reference));
      if (digest === undefined) throw new ManifestUnknownError(reference);
    }
    const record = await this.#deps.meta.getManifest(repository, digest);
    if (!record) throw new ManifestUnknownError(reference);
    return record;
  }

  /**
   * Fetches a manifest. For a tag, `accept` (the client's Accept list) must admit the stored type
   * when it names any manifest type at all, as distribution does.
   */
  async get(repository: string, reference: string, accept?: string[]): Promise<StoredManifest> {
    const record = await this.resolve(repository, reference);
    if (!isDigestReference(reference) && accept && !accepts(accept, record.mediaType)) {
      throw new ManifestUnknownError(
        reference,
        `manifest is ${record.mediaType}, which the Accept header does not allow`,
      );
    }
    return {
      digest: record.digest,
      mediaType: record.mediaType,
      bytes: await this.#bytes(record.digest),
      subject: record.subject,
    };
  }

  /** Deletes by digest (the manifest and its tags) or by tag (only the tag). */
  async delete(repository: string, reference: string): Promise<void> {
    if (isDigestReference(reference)) {
      const { digest } = parseDigest(reference);
      const tags = await this.#deps.meta.deleteManifest(repository, digest);
      if (tags === undefined) throw new ManifestUnknownError(reference);
      this.#deps.events.emit("manifest.deleted", { repository, digest, tags });
      return;
    }
    const digest = await this.#deps.meta.deleteTag(repository, checkTag(reference));
    if (digest === undefined) throw new ManifestUnknownError(reference);
    this.#deps.events.emit("tag.deleted", { repository, tag: reference, digest });
  }

  async tags(repository: string, page: PageRequest): Promise<string[]> {
    if (!(await this.#deps.meta.repositoryExists(repository)))
      throw new NameUnknownError(repository);
    return this.#deps.meta.listTags(repository, page);
  }

  async catalog(page: PageRequest): Promise<string[]> {
    return this.#deps.meta.listRepositories(page);
  }

  /**
   * The referrers index of `subject`: manifests pushed with that subject, plus the entries of an
   * index tagged with the fallback tag schema (`<alg>-<hex>`) by clients that use it.
   */
  async referrers(repository: string, subject: string, artifactType?: string) {
    const { algorithm, hex } = parseDigest(subject);
    const descriptors = new Map<string, Descriptor>();
    for (const record of await this.#deps.meta.listReferrers(repository, subject)) {
      descriptors.set(record.digest, {
        mediaType: record.mediaType,
        digest: record.digest,
        size: record.size,
        ...(record.artifactType ? { artifactType: record.artifactType } : {}),
        ...(record.annotations ? { annotations: record.annotations } : {}),
      });
    }
    const fallback = await this.#deps.meta.resolveTag(repository, `${algorithm}-${hex}`);
    if (fallback) {
      for (const entry of await this.#fallbackEntries(fallback)) {
        if (!descriptors.has(entry.digest)) descriptors.set(entry.digest, entry);
      }
    }
    const manifests = [...descriptors.values()].filter(
      (d) => artifactType === undefined || d.artifactType === artifactType,
    );
    return { schemaVersion: 2, mediaType: mediaTypes.ociIndex, manifests };
  }

  async #fallbackEntries(digest: string): Promise<Descriptor[]> {
    try {
      const index = JSON.parse(new TextDecoder().decode(await this.#bytes(digest)));
      return Array.isArray(index.manifests) ? index.manifests : [];
    } catch {
      return [];
    }
  }

  async #requireBlob(repository: string, blob: Descriptor): Promise<void> {
    const size = await this.#deps.meta.linkedBlobSize(repository, blob.digest);
    if (size === undefined) throw new ManifestBlobUnknownError(blob.digest);
    if (size !== blob.size) {
      throw new ManifestInvalidError(
        `descriptor of ${blob.digest} says ${blob.size} bytes but the blob has ${size}`,
      );
    }
  }

  async #bytes(digest: string): Promise<Uint8Array> {
    const cached = this.#cache.get(digest);
    if (cached) return cached;
    try {
      const bytes = await buffer(await this.#deps.blobs.open(digest));
      this.#cache.set(digest, bytes);
      return bytes;
    } catch (error) {
      if (error instanceof BlobNotFoundError) throw new ManifestUnknownError(digest);
      throw error;
    }
  }
}

/** Whether an Accept list admits a manifest media type (lists without manifest types admit all). */
function accepts(accept: string[], mediaType: string): boolean {
  const listed = accept.map((a) => a.split(";")[0]?.trim().toLowerCase() ?? "");
  if (listed.includes(mediaType) || listed.includes("*/*")) return true;
  return !listed.some((a) => manifestKinds.has(a));
}

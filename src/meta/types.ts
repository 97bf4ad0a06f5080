/** The metadata store: repositories, blob links, manifests, tags and uploads. */

export interface ManifestRecord {
  repository: string;
  digest: string;
  mediaType: string;
  size: number;
  artifactType?: string;
  /** Digest of the manifest this one refers to (`subject`), for the referrers API. */
  subject?: string;
  annotations?: Record<string, string>;
  createdAt?: number;
}

export interface ManifestReference {
  digest: string;
  kind: "blob" | "manifest";
}

export interface UploadRecord {
  id: string;
  repository: string;
  createdAt: number;
  updatedAt: number;
}

export interface Page {
  /** Return entries strictly after this one, in lexical order. */
  last?: string;
  limit: number;
}

export interface RepositoryMeta {
  ensureRepository(name: string): Promise<void>;
  repositoryExists(name: string): Promise<boolean>;
  listRepositories(page: Page): Promise<string[]>;
  /** Removes a repository with its tags, manifests and blob links (bytes stay until GC). */
  deleteRepository(name: string): Promise<boolean>;
}

export interface BlobMeta {
  /** Records a committed blob and links it into a repository. */
  linkBlob(repository: string, digest: string, size: number): Promise<void>;
  /** Size of a blob if it is linked into the repository. */
  linkedBlobSize(repository: string, digest: string): Promise<number | undefined>;
  /** Size of a blob known anywhere in the registry. */
  blobSize(digest: string): Promise<number | undefined>;
  unlinkBlob(repository: string, digest: string): Promise<boolean>;
  /** Up to `limit` repositories a blob is linked into. */
  repositoriesWithBlob(digest: string, limit: number): Promise<string[]>;
  /** A manifest of the repository that refers to the blob (linked or not), or undefined. */
  referencedBlob(repository: string, digest: string): Promise<string | undefined>;
}

export interface PutManifestOptions {
  /**
   * Refuse (MissingBlobLinkError) unless every blob reference is still linked into the repository
   * when the transaction commits: a push checked its blobs earlier, and GC may unlink in between.
   */
  requireLinkedBlobs?: boolean;
}

export interface ManifestMeta {
  /** Stores a manifest, its references and optionally a tag, in one transaction. */
  putManifest(
    record: ManifestRecord,
    references: ManifestReference[],
    tag?: string,
    options?: PutManifestOptions,
  ): Promise<{ previousDigest?: string }>;
  getManifest(repository: string, digest: string): Promise<ManifestRecord | undefined>;
  /** Deletes a manifest and every tag pointing at it; returns the removed tags. */
  deleteManifest(repository: string, digest: string): Promise<string[] | undefined>;
  listReferrers(repository: string, subject: string): Promise<ManifestRecord[]>;
}

export interface TagMeta {
  resolveTag(repository: string, tag: string): Promise<string | undefined>;
  listTags(repository: string, page: Page): Promise<string[]>;
  deleteTag(repository: string, tag: string): Promise<string | undefined>;
}

export interface UploadMeta {
  createUpload(record: UploadRecord): Promise<void>;
  getUpload(id: string): Promise<UploadRecord | undefined>;
  touchUpload(id: string, at: number): Promise<void>;
  deleteUpload(id: string): Promise<void>;
  uploadsUpdatedBefore(time: number): Promise<UploadRecord[]>;
  /**
   * Records the digest an upload is about to commit as, before its bytes move into place: GC keeps
   * a digest an upload in flight names (see src/lifecycle/gc.ts for the order of operations).
   */
  markUploadDigest(id: string, digest: string): Promise<void>;
}

/** A manifest push whose blob was unlinked (by GC) after the push checked it. */
export class MissingBlobLinkError extends Error {
  readonly digest: string;
  constructor(digest: string) {
    super(`blob ${digest} is no longer linked into the repository`);
    this.name = "MissingBlobLinkError";
    this.digest = digest;
  }
}

export interface MetaStore extends RepositoryMeta, BlobMeta, ManifestMeta, TagMeta, UploadMeta {
  /** Runs the store's own consistency check; returns problems found (empty when healthy). */
  check(): Promise<string[]>;
  close(): Promise<void>;
}

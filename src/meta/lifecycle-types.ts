/**
 * What storage lifecycle (garbage collection, retention, quotas) asks of the metadata store. Every
 * destructive method re-checks its condition inside one transaction, so a push that lands between
 * GC's mark phase and its sweep wins.
 */

/** Everything GC's mark phase reads, taken in one read transaction (a consistent snapshot). */
export interface GcSnapshot {
  manifests: Array<{ repository: string; digest: string; subject?: string; createdAt: number }>;
  references: Array<{
    repository: string;
    parent: string;
    child: string;
    kind: "blob" | "manifest";
  }>;
  tags: TagRecord[];
  /** `linkedAt`: when the blob was last linked into the repository. */
  links: Array<{ repository: string; digest: string; linkedAt: number }>;
  blobs: Array<{ digest: string; size: number; createdAt: number }>;
  /** Digests that uploads in flight are committing as right now. */
  uploadDigests: string[];
}

export interface TagRecord {
  repository: string;
  name: string;
  digest: string;
  updatedAt: number;
}

export interface QuotaRecord {
  namespace: string;
  bytes: number;
}

export type QuotaLinkResult = { ok: true } | { ok: false; used: number; limit: number };

export interface LifecycleRunRecord {
  id?: number;
  kind: "gc" | "retention";
  trigger: string;
  dryRun: boolean;
  startedAt: number;
  finishedAt: number;
  report: unknown;
  error?: string;
}

export interface GcMeta {
  gcSnapshot(): Promise<GcSnapshot>;
  /**
   * Deletes a manifest created before `before` that no tag points at, no manifest of its
   * repository lists as a child, and whose subject (if any) is gone. False if any of that changed.
   */
  deleteManifestIfUnkept(repository: string, digest: string, before: number): Promise<boolean>;
  /** Unlinks a blob linked before `before` that no manifest of the repository refers to. */
  unlinkBlobIfUnreferenced(repository: string, digest: string, before: number): Promise<boolean>;
  /**
   * Deletes the row of a blob created before `before` that nothing links, refers to, is a
   * manifest of, or is being uploaded as. After it returns true the bytes may go.
   */
  deleteBlobIfUnreferenced(digest: string, before: number): Promise<boolean>;
  /** Whether anything in the metadata still names this digest (the recheck after bytes moved). */
  digestInUse(digest: string): Promise<boolean>;
}

export interface RetentionMeta {
  /** A repository's tags with what they point at and when they last moved. */
  listTagRecords(repository: string): Promise<TagRecord[]>;
  /** Deletes a tag only if it still points at `digest`. */
  deleteTagIf(repository: string, tag: string, digest: string): Promise<boolean>;
  /** Every repository name (for matching retention patterns). */
  allRepositories(): Promise<string[]>;
}

export interface QuotaMeta {
  /** Sets a namespace's limit in bytes; undefined removes it. */
  setQuota(namespace: string, bytes: number | undefined): Promise<void>;
  getQuota(namespace: string): Promise<number | undefined>;
  listQuotas(): Promise<QuotaRecord[]>;
  /** Bytes of distinct blobs linked into any repository of the namespace (each counted once). */
  namespaceUsage(namespace: string): Promise<number>;
  /** Whether any repository of the namespace holds the blob (then it is counted already). */
  namespaceHasBlob(namespace: string, digest: string): Promise<boolean>;
  /** Usage of every namespace that has repositories. */
  allNamespaceUsage(): Promise<QuotaRecord[]>;
  /**
   * Links a blob into a repository unless that takes the namespace over its quota, checked and
   * linked in one transaction so concurrent uploads cannot both slip under the limit.
   */
  linkBlobWithinQuota(
    repository: string,
    namespace: string,
    digest: string,
    size: number,
  ): Promise<QuotaLinkResult>;
}

export interface LifecycleRunMeta {
  recordRun(run: LifecycleRunRecord): Promise<number>;
  /** The latest runs, newest first. */
  listRuns(limit: number): Promise<LifecycleRunRecord[]>;
}

export interface LifecycleStore extends GcMeta, RetentionMeta, QuotaMeta, LifecycleRunMeta {}

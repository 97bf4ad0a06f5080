/** Storage lifecycle: garbage collection, retention policies and namespace quotas. */
import { OciError } from "../registry/index.ts";

export interface GcOptions {
  /** Nothing younger than this is swept: blobs, links, manifests and files. */
  graceMinutes: number;
  /** Delete manifests no tag reaches (directly, through an index, or as a referrer). */
  deleteUntagged: boolean;
  /** Uploads untouched this long are expired by a run. */
  uploadExpiryHours: number;
}

export interface RetentionPolicy {
  /** Repository pattern: `*` matches within one path segment, `**` across segments. */
  match: string;
  /** Keep the N most recently moved tags. */
  keepLast?: number;
  /** Keep tags matching this regular expression. */
  keepTags?: string;
  /** Delete untagged manifests older than this many days. */
  untaggedDays?: number;
}

/** One thing a run removed, or would remove in a dry run. */
export interface LifecycleItem {
  kind: "manifest" | "tag" | "link" | "blob" | "file" | "upload";
  digest?: string;
  repository?: string;
  tag?: string;
  /** Bytes the item's removal frees on disk. */
  size?: number;
}

export interface GcReport {
  dryRun: boolean;
  startedAt: number;
  finishedAt: number;
  /** Expired uploads, and upload files no upload record names (a crash mid-write). */
  uploads: number;
  manifests: number;
  links: number;
  blobs: number;
  /** Blob files with no metadata (a crash between the row's delete and the file's, or a push). */
  files: number;
  bytesFreed: number;
  /** Candidates a recheck kept because something referred to them after the mark phase. */
  kept: number;
  /** The first items (capped, so a report stays small). */
  items: LifecycleItem[];
  truncated: boolean;
}

export interface RetentionReport {
  dryRun: boolean;
  startedAt: number;
  finishedAt: number;
  tags: number;
  manifests: number;
  kept: number;
  items: LifecycleItem[];
  truncated: boolean;
}

export interface Progress {
  phase: string;
  done: number;
  total: number;
}

export interface RunOptions {
  dryRun?: boolean;
  /** Who asked: "schedule", "api", "cli". */
  trigger?: string;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
}

/** A blob file as GC sees it on disk. */
export interface BlobFile {
  digest: string;
  size: number;
  modifiedAt: number;
}

/**
 * The bytes side of a sweep. A file is moved aside before the metadata recheck and only then
 * deleted or put back, so an upload racing the sweep always ends with its bytes in place.
 */
export interface BlobFiles {
  list(): AsyncIterable<BlobFile>;
  stat(digest: string): Promise<BlobFile | undefined>;
  /** Moves a blob's file aside; returns a token, or undefined when there was no file. */
  moveAside(digest: string): Promise<string | undefined>;
  /** Puts a moved file back (unless the blob was committed again meanwhile). */
  restore(digest: string, token: string): Promise<void>;
  /** Deletes a moved file for good. */
  discard(token: string): Promise<void>;
  /** Files left aside by a run that died: digest and token each. */
  leftAside(): AsyncIterable<{ digest: string; token: string }>;
  /** Upload files (client uploads, fills, temporary writes), by id. */
  uploadFiles(): AsyncIterable<{ id: string; size: number; modifiedAt: number }>;
  deleteUploadFile(id: string): Promise<void>;
}

/** Refused by a namespace quota: `DENIED`, with how much is used of how much. */
export class QuotaExceededError extends OciError {
  constructor(namespace: string, used: number, limit: number) {
    super(
      "DENIED",
      `namespace ${namespace} is over its quota: ${formatBytes(used)} used of ${formatBytes(limit)}`,
      { detail: { namespace, used, limit } },
    );
  }
}

/** A run refused because another one is going on. */
export class LifecycleBusyError extends OciError {
  constructor(kind: string) {
    super("UNAVAILABLE", `a ${kind} run is already going on; try again when it finishes`, {
      headers: { "Retry-After": "30" },
    });
  }
}

const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** 10.2 GiB, 512 B. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 ? String(value) : value.toFixed(1).replace(/\.0$/, "");
  return `${text} ${units[unit]}`;
}

/** Parses `1048576`, `10GiB`, `1.5 GB`, `500M` into bytes; undefined if it is not a size. */
export function parseBytes(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?)(b?)\s*$/i.exec(text);
  if (!match) return undefined;
  const [, number, prefix = "", binary = "", byteUnit = ""] = match;
  if (prefix === "" && (binary !== "" || (byteUnit === "" && number?.includes(".")))) {
    return undefined;
  }
  const power = prefix ? "kmgtp".indexOf(prefix.toLowerCase()) + 1 : 0;
  // A bare prefix (10G) means binary, as in most operator tools; "GB" is decimal, "GiB" binary.
  const base = binary || byteUnit === "" ? 1024 : 1000;
  const bytes = Math.round(Number(number) * base ** power);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

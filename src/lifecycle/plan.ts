/**
 * GC's mark phase as a pure function of a metadata snapshot and the files on disk: what a sweep
 * would remove. The sweep (gc.ts) re-checks every item in a transaction before acting on it.
 */
import type { GcSnapshot } from "../meta/index.ts";
import type { BlobFile } from "./types.ts";

export interface GcPlanOptions {
  /** Nothing created, linked or written at or after this time (ms) is a candidate. */
  cutoff: number;
  deleteUntagged: boolean;
  /** Repositories whose links are themselves what keeps content (IPFS pins): never pruned. */
  pinnedPrefixes: string[];
}

export interface GcPlan {
  /** Untagged manifests to delete, each after its parents and subject. */
  manifests: Array<{ repository: string; digest: string }>;
  /** Links no manifest of their repository refers to. */
  links: Array<{ repository: string; digest: string }>;
  /** Blob rows nothing will refer to, with the bytes their files hold (0 if no file). */
  blobs: Array<{ digest: string; size: number }>;
  /** Files with no metadata at all. */
  files: Array<{ digest: string; size: number }>;
}

const key = (repository: string, digest: string) => `${repository}\u0000${digest}`;

/** Which manifests of each repository survive: tagged, young, or reachable from one that does. */
export function keptManifests(
  snapshot: GcSnapshot,
  options: { cutoff: number; deleteUntagged: boolean },
): Set<string> {
  const kept = new Set<string>();
  const queue: string[] = [];
  const keep = (k: string) => {
    if (kept.has(k)) return;
    kept.add(k);
    queue.push(k);
  };
  const children = new Map<string, string[]>();
  for (const r of snapshot.references) {
    if (r.kind !== "manifest") continue;
    const parent = key(r.repository, r.parent);
    children.set(parent, [...(children.get(parent) ?? []), key(r.repository, r.child)]);
  }
  const referrers = new Map<string, string[]>();
  for (const m of snapshot.manifests) {
    if (!m.subject) continue;
    const subject = key(m.repository, m.subject);
    referrers.set(subject, [...(referrers.get(subject) ?? []), key(m.repository, m.digest)]);
  }
  for (const t of snapshot.tags) keep(key(t.repository, t.digest));
  for (const m of snapshot.manifests) {
    if (!options.deleteUntagged || m.createdAt >= options.cutoff) keep(key(m.repository, m.digest));
  }
  for (let k = queue.pop(); k !== undefined; k = queue.pop()) {
    for (const child of children.get(k) ?? []) keep(child);
    for (const referrer of referrers.get(k) ?? []) keep(referrer);
  }
  return kept;
}

/** Orders manifests so that parents and subjects come before what they keep alive. */
function deletionOrder(
  doomed: Array<{ repository: string; digest: string }>,
  snapshot: GcSnapshot,
): Array<{ repository: string; digest: string }> {
  const blockers = new Map<string, Set<string>>();
  const doomedKeys = new Set(doomed.map((m) => key(m.repository, m.digest)));
  const block = (blocked: string, by: string) => {
    if (!doomedKeys.has(blocked) || !doomedKeys.has(by) || blocked === by) return;
    blockers.set(blocked, (blockers.get(blocked) ?? new Set()).add(by));
  };
  for (const r of snapshot.references) {
    if (r.kind === "manifest") block(key(r.repository, r.child), key(r.repository, r.parent));
  }
  for (const m of snapshot.manifests) {
    if (m.subject) block(key(m.repository, m.digest), key(m.repository, m.subject));
  }
  const ordered: Array<{ repository: string; digest: string }> = [];
  const done = new Set<string>();
  let pending = doomed;
  while (pending.length > 0) {
    const next = pending.filter((m) => {
      const k = key(m.repository, m.digest);
      const free = [...(blockers.get(k) ?? [])].every((b) => done.has(b));
      if (free) ordered.push(m);
      return !free;
    });
    for (const m of ordered) done.add(key(m.repository, m.digest));
    // A cycle cannot come from content addressing; if the data has one, keep it rather than loop.
    if (next.length === pending.length) break;
    pending = next;
  }
  return ordered;
}

export function planGc(snapshot: GcSnapshot, files: BlobFile[], options: GcPlanOptions): GcPlan {
  const { cutoff } = options;
  const kept = keptManifests(snapshot, options);
  const doomed = snapshot.manifests
    .filter((m) => !kept.has(key(m.repository, m.digest)))
    .map((m) => ({ repository: m.repository, digest: m.digest }));

  // What kept manifests refer to, per repository and anywhere.
  const referencedIn = new Set<string>();
  const referencedAnywhere = new Set<string>();
  for (const r of snapshot.references) {
    if (!kept.has(key(r.repository, r.parent))) continue;
    referencedIn.add(key(r.repository, r.child));
    referencedAnywhere.add(r.child);
  }
  for (const m of snapshot.manifests) {
    if (!kept.has(key(m.repository, m.digest))) continue;
    referencedIn.add(key(m.repository, m.digest));
    referencedAnywhere.add(m.digest);
  }
  const pinned = (repository: string) =>
    options.pinnedPrefixes.some((prefix) => repository.startsWith(prefix));

  const links: GcPlan["links"] = [];
  const linked = new Set<string>();
  for (const l of snapshot.links) {
    const prunable =
      l.linkedAt < cutoff &&
      !pinned(l.repository) &&
      !referencedIn.has(key(l.repository, l.digest));
    if (prunable) links.push({ repository: l.repository, digest: l.digest });
    else linked.add(l.digest);
  }

  const inFlight = new Set(snapshot.uploadDigests);
  const onDisk = new Map(files.map((f) => [f.digest, f]));
  const blobs: GcPlan["blobs"] = [];
  const rows = new Set<string>();
  for (const b of snapshot.blobs) {
    rows.add(b.digest);
    const garbage =
      b.createdAt < cutoff &&
      !linked.has(b.digest) &&
      !referencedAnywhere.has(b.digest) &&
      !inFlight.has(b.digest);
    if (garbage) blobs.push({ digest: b.digest, size: onDisk.get(b.digest)?.size ?? 0 });
  }

  // Files nothing names once this run is done: bytes of manifests deleted now or earlier, or what
  // a crash left between a row and its file. What a doomed manifest refers to without a row (a
  // mirror's blob) waits one more run, when nothing refers to it any more.
  const named = new Set([...rows, ...inFlight, ...referencedAnywhere]);
  const doomedDigests = new Set(doomed.map((m) => m.digest));
  for (const r of snapshot.references) {
    if (!doomedDigests.has(r.child)) named.add(r.child);
  }
  const filesToGo: GcPlan["files"] = files
    .filter((f) => f.modifiedAt < cutoff && !named.has(f.digest))
    .map((f) => ({ digest: f.digest, size: f.size }));

  return { manifests: deletionOrder(doomed, snapshot), links, blobs, files: filesToGo };
}

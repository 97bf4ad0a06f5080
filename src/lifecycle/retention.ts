/**
 * Retention policies per repository pattern: keep the N most recently moved tags and the tags
 * matching a pattern, delete the other tags, and delete untagged manifests after some days. What a
 * policy frees is reclaimed by the next garbage collection.
 */
import type { Logger } from "../log/index.ts";
import type { GcSnapshot, LifecycleStore } from "../meta/index.ts";
import type { RegistryEvents } from "../registry/index.ts";
import { keptManifests } from "./plan.ts";
import {
  LifecycleBusyError,
  type LifecycleItem,
  type RetentionPolicy,
  type RetentionReport,
  type RunOptions,
} from "./types.ts";

const maxItems = 1000;

export interface RetentionDeps {
  store: LifecycleStore;
  events: RegistryEvents;
  forgetManifest?: (digest: string) => void;
  log: Logger;
  /** The clock (tests move it forward instead of waiting out the grace window). */
  now?: () => number;
  /** Repositories no policy touches: mirrors, whose tags are their origin's to move. */
  exempt?: (repository: string) => boolean;
}

/** `*` matches within one path segment, `**` across segments; everything else literally. */
export function repositoryPattern(match: string): RegExp {
  const source = match
    .split("**")
    .map((part) =>
      part
        .split("*")
        .map((text) => text.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join("[^/]*"),
    )
    .join(".*");
  return new RegExp(`^${source}$`);
}

/** The first policy whose pattern matches the repository, if any. */
export function policyFor(
  policies: RetentionPolicy[],
  repository: string,
): RetentionPolicy | undefined {
  return policies.find((p) => repositoryPattern(p.match).test(repository));
}

export class RetentionService {
  readonly #deps: RetentionDeps;
  readonly #policies: RetentionPolicy[];
  #running = false;

  constructor(deps: RetentionDeps, policies: RetentionPolicy[]) {
    this.#deps = deps;
    this.#policies = policies;
    // Fail at start-up, not at 3 a.m.: every pattern must compile.
    for (const p of policies) if (p.keepTags !== undefined) new RegExp(p.keepTags);
  }

  get policies(): RetentionPolicy[] {
    return this.#policies;
  }

  async run(options: RunOptions = {}): Promise<RetentionReport> {
    if (this.#running) throw new LifecycleBusyError("retention");
    this.#running = true;
    try {
      return await this.#run(options);
    } finally {
      this.#running = false;
    }
  }

  async #run(options: RunOptions): Promise<RetentionReport> {
    const startedAt = (this.#deps.now ?? Date.now)();
    const dryRun = Boolean(options.dryRun);
    const report: RetentionReport = {
      dryRun,
      startedAt,
      finishedAt: startedAt,
      tags: 0,
      manifests: 0,
      kept: 0,
      items: [],
      truncated: false,
    };
    const add = (item: LifecycleItem) => {
      if (item.kind === "tag") report.tags++;
      else report.manifests++;
      if (report.items.length < maxItems) report.items.push(item);
      else report.truncated = true;
    };
    if (this.#policies.length === 0) return { ...report, finishedAt: Date.now() };
    const { store, events } = this.#deps;
    const repositories = await store.allRepositories();
    const exempt = this.#deps.exempt ?? (() => false);
    const matched = repositories.flatMap((repository) => {
      if (exempt(repository)) return [];
      const policy = policyFor(this.#policies, repository);
      return policy ? [{ repository, policy }] : [];
    });
    const total = matched.length * 2;
    let done = 0;
    const step = () => {
      options.signal?.throwIfAborted();
      options.onProgress?.({ phase: "retention", done: done++, total });
    };
    // Tags first, everywhere; then one snapshot shows which manifests that left untagged.
    const goneTags = new Set<string>();
    for (const { repository, policy } of matched) {
      step();
      for (const tag of await this.#doomedTags(repository, policy)) {
        if (!dryRun && !(await store.deleteTagIf(repository, tag.name, tag.digest))) {
          report.kept++;
          continue;
        }
        if (!dryRun) events.emit("tag.deleted", { repository, tag: tag.name, digest: tag.digest });
        goneTags.add(`${repository}\u0000${tag.name}`);
        add({ kind: "tag", repository, tag: tag.name, digest: tag.digest });
      }
    }
    const withDays = matched.filter((m) => m.policy.untaggedDays !== undefined);
    const snapshot = withDays.length > 0 ? await store.gcSnapshot() : undefined;
    if (snapshot && dryRun) {
      snapshot.tags = snapshot.tags.filter((t) => !goneTags.has(`${t.repository}\u0000${t.name}`));
    }
    for (const { repository, policy } of withDays) {
      step();
      const cutoff = startedAt - (policy.untaggedDays ?? 0) * 86_400_000;
      for (const digest of untaggedIn(snapshot as GcSnapshot, repository, cutoff)) {
        if (!dryRun && !(await store.deleteManifestIfUnkept(repository, digest, cutoff))) {
          report.kept++;
          continue;
        }
        if (!dryRun) {
          this.#deps.forgetManifest?.(digest);
          events.emit("manifest.deleted", { repository, digest, tags: [] });
        }
        add({ kind: "manifest", repository, digest });
      }
    }
    report.finishedAt = Date.now();
    this.#deps.log.info(
      { ...report, items: undefined, truncated: undefined },
      "retention policies applied",
    );
    return report;
  }

  async #doomedTags(repository: string, policy: RetentionPolicy) {
    if (policy.keepLast === undefined && policy.keepTags === undefined) return [];
    const keepTags = policy.keepTags === undefined ? undefined : new RegExp(policy.keepTags);
    // Newest first: the order keepLast counts in.
    const tags = await this.#deps.store.listTagRecords(repository);
    return tags.filter(
      (tag, index) =>
        !(policy.keepLast !== undefined && index < policy.keepLast) &&
        !(keepTags?.test(tag.name) ?? false),
    );
  }
}

/** Untagged manifests of one repository older than the cutoff, parents and subjects first. */
function untaggedIn(snapshot: GcSnapshot, repository: string, cutoff: number): string[] {
  const only: GcSnapshot = {
    manifests: snapshot.manifests.filter((m) => m.repository === repository),
    references: snapshot.references.filter((r) => r.repository === repository),
    tags: snapshot.tags.filter((t) => t.repository === repository),
    links: [],
    blobs: [],
    uploadDigests: [],
  };
  const kept = keptManifests(only, { cutoff, deleteUntagged: true });
  const doomed = only.manifests.filter((m) => !kept.has(`${repository}\u0000${m.digest}`));
  const parents = new Map<string, string[]>();
  const addParent = (child: string, parent: string) =>
    parents.set(child, [...(parents.get(child) ?? []), parent]);
  for (const r of only.references) if (r.kind === "manifest") addParent(r.child, r.parent);
  for (const m of only.manifests) if (m.subject) addParent(m.digest, m.subject);
  const depth = new Map<string, number>();
  const depthOf = (digest: string, seen: Set<string>): number => {
    const known = depth.get(digest);
    if (known !== undefined) return known;
    if (seen.has(digest)) return 0;
    seen.add(digest);
    const d = Math.max(0, ...(parents.get(digest) ?? []).map((p) => depthOf(p, seen) + 1));
    depth.set(digest, d);
    return d;
  };
  return doomed.map((m) => m.digest).sort((a, b) => depthOf(a, new Set()) - depthOf(b, new Set()));
}

/**
 * Online garbage collection: mark (plan.ts, from one snapshot), then sweep item by item, each
 * re-checked in a transaction. Crash-safe: metadata goes before bytes, so a kill at any moment
 * leaves at worst a file nothing names, which a later run removes once it is past the grace window.
 *
 * Why a sweep cannot eat a concurrent push:
 * - a manifest push stores its references in the transaction that requires the blobs still linked
 *   (`requireLinkedBlobs`), and a link is only removed in a transaction that finds no reference;
 * - an upload records the digest it commits as (`markUploadDigest`) before it looks at the blob
 *   file, and GC moves a file aside before it re-checks the metadata (`digestInUse`): one of the two
 *   always sees the other, and a file moved aside that turns out to be wanted is put back;
 * - everything younger than the grace window is left alone in any case.
 */
import type { Logger } from "../log/index.ts";
import type { LifecycleStore, UploadMeta } from "../meta/index.ts";
import type { RegistryEvents } from "../registry/index.ts";
import { type GcPlan, planGc } from "./plan.ts";
import {
  type BlobFile,
  type BlobFiles,
  type GcOptions,
  type GcReport,
  LifecycleBusyError,
  type LifecycleItem,
  type RunOptions,
} from "./types.ts";

/** Items a report lists; the counts stay exact beyond it. */
const maxItems = 1000;

export interface GcDeps {
  store: LifecycleStore;
  uploads: Pick<UploadMeta, "uploadsUpdatedBefore" | "getUpload"> & {
    purgeStale(before: number): Promise<number>;
  };
  files: BlobFiles;
  events: RegistryEvents;
  /** Drops a deleted manifest from the manifest cache. */
  forgetManifest?: (digest: string) => void;
  log: Logger;
  /** The clock (tests move it forward instead of waiting out the grace window). */
  now?: () => number;
}

export class GarbageCollector {
  readonly #deps: GcDeps;
  readonly #options: GcOptions;
  #running = false;

  constructor(deps: GcDeps, options: GcOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  /** Runs a collection (or plans one, with `dryRun`); one at a time. */
  async run(options: RunOptions = {}): Promise<GcReport> {
    if (this.#running) throw new LifecycleBusyError("garbage collection");
    this.#running = true;
    try {
      return await this.#run(options);
    } finally {
      this.#running = false;
    }
  }

  /** Puts back or deletes files a killed run left aside. */
  async recover(): Promise<number> {
    let handled = 0;
    for await (const { digest, token } of this.#deps.files.leftAside()) {
      if (await this.#deps.store.digestInUse(digest)) await this.#deps.files.restore(digest, token);
      else await this.#deps.files.discard(token);
      handled++;
    }
    if (handled) this.#deps.log.info({ handled }, "files left aside by an interrupted run handled");
    return handled;
  }

  async #run(options: RunOptions): Promise<GcReport> {
    const startedAt = (this.#deps.now ?? Date.now)();
    const dryRun = Boolean(options.dryRun);
    const cutoff = startedAt - this.#options.graceMinutes * 60_000;
    const report = new ReportBuilder(dryRun, startedAt);
    if (!dryRun) await this.recover();

    const expiry = startedAt - this.#options.uploadExpiryHours * 3600_000;
    if (dryRun) {
      for (const u of await this.#deps.uploads.uploadsUpdatedBefore(expiry))
        report.add("uploads", { kind: "upload", repository: u.repository });
    } else {
      report.count("uploads", await this.#deps.uploads.purgeStale(expiry));
    }
    await this.#orphanUploads(expiry, dryRun, report);

    const progress = (phase: string, done: number, total: number) =>
      options.onProgress?.({ phase, done, total });
    const files: BlobFile[] = [];
    for await (const file of this.#deps.files.list()) {
      files.push(file);
      if (files.length % 256 === 0) progress("scan", files.length, 0);
    }
    const snapshot = await this.#deps.store.gcSnapshot();
    const plan = planGc(snapshot, files, {
      cutoff,
      deleteUntagged: this.#options.deleteUntagged,
      pinnedPrefixes: ["ipfs/"],
    });
    const total = plan.manifests.length + plan.links.length + plan.blobs.length + plan.files.length;
    progress("sweep", 0, total);
    if (dryRun) {
      listPlan(plan, report);
      progress("sweep", total, total);
      return report.finish();
    }
    let done = 0;
    const step = async (work: () => Promise<void>) => {
      options.signal?.throwIfAborted();
      await work();
      progress("sweep", ++done, total);
    };
    const { store, events } = this.#deps;
    for (const m of plan.manifests) {
      await step(async () => {
        if (!(await store.deleteManifestIfUnkept(m.repository, m.digest, cutoff)))
          return report.keep();
        this.#deps.forgetManifest?.(m.digest);
        events.emit("manifest.deleted", { ...m, tags: [] });
        report.add("manifests", { kind: "manifest", ...m });
      });
    }
    for (const l of plan.links) {
      await step(async () => {
        if (!(await store.unlinkBlobIfUnreferenced(l.repository, l.digest, cutoff)))
          return report.keep();
        events.emit("blob.deleted", l);
        report.add("links", { kind: "link", ...l });
      });
    }
    for (const b of plan.blobs) {
      await step(async () => {
        if (!(await store.deleteBlobIfUnreferenced(b.digest, cutoff))) return report.keep();
        const freed = await this.#purgeBytes(b.digest);
        if (freed === undefined) return report.keep();
        report.add("blobs", { kind: "blob", digest: b.digest, size: freed });
      });
    }
    for (const f of plan.files) {
      await step(async () => {
        if (await store.digestInUse(f.digest)) return report.keep();
        const freed = await this.#purgeBytes(f.digest);
        if (freed === undefined) return report.keep();
        report.add("files", { kind: "file", digest: f.digest, size: freed });
      });
    }
    const result = report.finish();
    this.#deps.log.info(
      { ...result, items: undefined, truncated: undefined },
      "garbage collection finished",
    );
    return result;
  }

  /** Upload files with no upload record, untouched since `before`: a crash between the two. */
  async #orphanUploads(before: number, dryRun: boolean, report: ReportBuilder): Promise<void> {
    for await (const file of this.#deps.files.uploadFiles()) {
      if (file.modifiedAt >= before || (await this.#deps.uploads.getUpload(file.id))) continue;
      if (!dryRun) await this.#deps.files.deleteUploadFile(file.id);
      report.add("uploads", { kind: "upload", size: file.size });
    }
  }

  /**
   * Removes a blob's file once its metadata is gone: aside, recheck, then delete or put back.
   * Resolves with the bytes freed, or undefined when something wanted the file after all.
   */
  async #purgeBytes(digest: string): Promise<number | undefined> {
    const { files, store, events } = this.#deps;
    const size = (await files.stat(digest))?.size ?? 0;
    const token = await files.moveAside(digest);
    if (token && (await store.digestInUse(digest))) {
      await files.restore(digest, token);
      this.#deps.log.info({ digest }, "blob wanted again during the sweep: put back");
      return undefined;
    }
    if (token) await files.discard(token);
    events.emit("blob.purged", { digest });
    return token ? size : 0;
  }
}

function listPlan(plan: GcPlan, report: ReportBuilder): void {
  for (const m of plan.manifests) report.add("manifests", { kind: "manifest", ...m });
  for (const l of plan.links) report.add("links", { kind: "link", ...l });
  for (const b of plan.blobs) report.add("blobs", { kind: "blob", ...b });
  for (const f of plan.files) report.add("files", { kind: "file", ...f });
}

type Counter = "uploads" | "manifests" | "links" | "blobs" | "files";

class ReportBuilder {
  readonly #report: GcReport;

  constructor(dryRun: boolean, startedAt: number) {
    this.#report = {
      dryRun,
      startedAt,
      finishedAt: startedAt,
      uploads: 0,
      manifests: 0,
      links: 0,
      blobs: 0,
      files: 0,
      bytesFreed: 0,
      kept: 0,
      items: [],
      truncated: false,
    };
  }

  add(counter: Counter, item: LifecycleItem): void {
    this.#report[counter]++;
    this.#report.bytesFreed += item.size ?? 0;
    if (this.#report.items.length < maxItems) this.#report.items.push(item);
    else this.#report.truncated = true;
  }

  count(counter: Counter, n: number): void {
    this.#report[counter] += n;
  }

  keep(): void {
    this.#report.kept++;
  }

  finish(): GcReport {
    this.#report.finishedAt = Date.now();
    return this.#report;
  }
}

/**
 * The storage lifecycle of one instance: GC, retention and quotas wired to the registry, runs
 * recorded for the API and UI, and the schedule (retention first, then GC).
 */
import type { Logger } from "../log/index.ts";
import type { LifecycleRunRecord, LifecycleStore, UploadMeta } from "../meta/index.ts";
import type { Registry } from "../registry/index.ts";
import { GarbageCollector } from "./gc.ts";
import { QuotaService } from "./quota.ts";
import { RetentionService } from "./retention.ts";
import type {
  BlobFiles,
  GcOptions,
  GcReport,
  RetentionPolicy,
  RetentionReport,
  RunOptions,
} from "./types.ts";

export interface LifecycleDeps {
  store: LifecycleStore;
  meta: Pick<UploadMeta, "uploadsUpdatedBefore" | "getUpload">;
  registry: Registry;
  files: BlobFiles;
  log: Logger;
  now?: () => number;
  /** Repositories retention leaves alone (mirrors). */
  retentionExempt?: (repository: string) => boolean;
}

export interface LifecycleOptions {
  gc: GcOptions & { intervalHours: number };
  retention: RetentionPolicy[];
  /** Wire quotas into uploads and mounts (they are reported either way). */
  enforceQuotas: boolean;
}

export class Lifecycle {
  readonly gc: GarbageCollector;
  readonly retention: RetentionService;
  readonly quotas: QuotaService;
  readonly #deps: LifecycleDeps;
  readonly #options: LifecycleOptions;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: LifecycleDeps, options: LifecycleOptions) {
    this.#deps = deps;
    this.#options = options;
    this.#log = deps.log.child({ category: "registry.gc" });
    const { registry } = deps;
    const forgetManifest = (digest: string) => registry.manifests.forget(digest);
    this.gc = new GarbageCollector(
      {
        store: deps.store,
        uploads: {
          uploadsUpdatedBefore: (time) => deps.meta.uploadsUpdatedBefore(time),
          getUpload: (id) => deps.meta.getUpload(id),
          purgeStale: (before) => registry.uploads.purgeStale(before),
        },
        files: deps.files,
        events: registry.events,
        forgetManifest,
        log: this.#log,
        now: deps.now,
      },
      options.gc,
    );
    this.retention = new RetentionService(
      {
        store: deps.store,
        events: registry.events,
        forgetManifest,
        log: deps.log.child({ category: "registry.retention" }),
        now: deps.now,
        exempt: deps.retentionExempt,
      },
      options.retention,
    );
    this.quotas = new QuotaService(deps.store);
    if (options.enforceQuotas) {
      registry.uploads.limitWith(this.quotas);
      registry.blobs.limitWith(this.quotas);
    }
  }

  /** Runs garbage collection and records the run. */
  async collect(options: RunOptions = {}): Promise<GcReport> {
    return this.#recorded("gc", options, () => this.gc.run(options));
  }

  /** Applies the retention policies and records the run. */
  async applyRetention(options: RunOptions = {}): Promise<RetentionReport> {
    return this.#recorded("retention", options, () => this.retention.run(options));
  }

  /** The latest recorded runs, newest first. */
  async runs(limit = 20): Promise<LifecycleRunRecord[]> {
    return this.#deps.store.listRuns(limit);
  }

  /** Handles files a killed run left aside, then starts the schedule (if `intervalHours` > 0). */
  async start(): Promise<void> {
    await this.gc.recover();
    const hours = this.#options.gc.intervalHours;
    if (hours <= 0) return;
    this.#timer = setInterval(() => void this.scheduled(), hours * 3600_000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** One scheduled round: retention, then GC; failures are logged and recorded, never thrown. */
  async scheduled(): Promise<void> {
    const options = { trigger: "schedule" };
    try {
      await this.applyRetention(options);
      await this.collect(options);
    } catch (error) {
      this.#log.error({ err: error }, "scheduled storage lifecycle run failed");
    }
  }

  async #recorded<T extends { dryRun: boolean; startedAt: number; finishedAt: number }>(
    kind: "gc" | "retention",
    options: RunOptions,
    work: () => Promise<T>,
  ): Promise<T> {
    const startedAt = Date.now();
    const base = { kind, trigger: options.trigger ?? "api", dryRun: Boolean(options.dryRun) };
    try {
      const report = await work();
      await this.#deps.store.recordRun({ ...base, startedAt, finishedAt: Date.now(), report });
      return report;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // A refused second run is not a run.
      if ((error as { code?: string }).code !== "UNAVAILABLE") {
        await this.#deps.store.recordRun({
          ...base,
          startedAt,
          finishedAt: Date.now(),
          report: null,
          error: message,
        });
      }
      throw error;
    }
  }
}

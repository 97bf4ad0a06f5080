/** A registry on temporary stores with its Lifecycle, and a movable clock, for lifecycle tests. */
import { join } from "node:path";
import { createApp } from "../http/app.ts";
import { tempDir } from "../http/test-support.ts";
import type { HttpApp } from "../http/types.ts";
import { silentLogger } from "../log/index.ts";
import { SqliteLifecycleStore, SqliteMetaStore } from "../meta/index.ts";
import { createRegistry, type Registry } from "../registry/index.ts";
import { FsBlobStore } from "../storage/index.ts";
import { FsBlobFiles } from "./fs-blob-files.ts";
import { Lifecycle } from "./lifecycle.ts";
import type { BlobFiles, RetentionPolicy } from "./types.ts";

export interface LifecycleFixture {
  app: HttpApp;
  registry: Registry;
  meta: SqliteMetaStore;
  store: SqliteLifecycleStore;
  blobs: FsBlobStore;
  files: FsBlobFiles;
  lifecycle: Lifecycle;
  root: string;
  /** Moves the lifecycle's clock forward (past the grace window). */
  advance(ms: number): void;
  /** `blob.purged` digests emitted so far. */
  purged: string[];
}

export interface FixtureOptions {
  graceMinutes?: number;
  deleteUntagged?: boolean;
  retention?: RetentionPolicy[];
  /** Wraps the file side, to interleave work with a sweep. */
  wrapFiles?: (files: BlobFiles) => BlobFiles;
  retentionExempt?: (repository: string) => boolean;
}

export async function lifecycleFixture(options: FixtureOptions = {}): Promise<LifecycleFixture> {
  const root = await tempDir("flotilla-lifecycle-");
  const log = silentLogger();
  const meta = new SqliteMetaStore({ path: ":memory:" });
  const blobs = await FsBlobStore.create({ root });
  const registry = createRegistry(
    { blobs, meta, log },
    { maxManifestBytes: 4 * 1024 * 1024, manifestCacheBytes: 1 << 20 },
  );
  const store = new SqliteLifecycleStore(meta.database);
  const files = new FsBlobFiles(blobs, join(root, "gc-aside"), join(root, "uploads"));
  let offset = 0;
  const lifecycle = new Lifecycle(
    {
      store,
      meta,
      registry,
      files: options.wrapFiles ? options.wrapFiles(files) : files,
      log,
      now: () => Date.now() + offset,
      retentionExempt: options.retentionExempt,
    },
    {
      gc: {
        graceMinutes: options.graceMinutes ?? 60,
        deleteUntagged: options.deleteUntagged ?? false,
        uploadExpiryHours: 24,
        intervalHours: 0,
      },
      retention: options.retention ?? [],
      enforceQuotas: true,
    },
  );
  const purged: string[] = [];
  registry.events.on("blob.purged", ({ digest }) => {
    purged.push(digest);
  });
  return {
    app: createApp({ registry, log }),
    registry,
    meta,
    store,
    blobs,
    files,
    lifecycle,
    root,
    advance: (ms) => {
      offset += ms;
    },
    purged,
  };
}

export const hour = 3600_000;

/** Builds an instance's Lifecycle from its configuration, its database and its blob store. */
import { join } from "node:path";
import type { Config } from "../config/index.ts";
import type { Logger } from "../log/index.ts";
import { type MetaStore, type SqliteDatabase, SqliteLifecycleStore } from "../meta/index.ts";
import type { Registry } from "../registry/index.ts";
import type { FsBlobStore } from "../storage/index.ts";
import { FsBlobFiles } from "./fs-blob-files.ts";
import { Lifecycle } from "./lifecycle.ts";

export interface CreateLifecycleDeps {
  database: SqliteDatabase;
  meta: MetaStore;
  blobs: FsBlobStore;
  registry: Registry;
  /** The data directory; files a sweep moves aside wait in `gc-aside/` there. */
  dataDir: string;
  log: Logger;
  /** Repositories retention leaves alone: mirrors follow their origin's tags. */
  retentionExempt?: (repository: string) => boolean;
}

export function createLifecycle(
  deps: CreateLifecycleDeps,
  config: Pick<Config, "gc" | "retention" | "quota" | "registry">,
): Lifecycle {
  return new Lifecycle(
    {
      store: new SqliteLifecycleStore(deps.database),
      meta: deps.meta,
      registry: deps.registry,
      files: new FsBlobFiles(
        deps.blobs,
        join(deps.dataDir, "gc-aside"),
        join(deps.dataDir, "uploads"),
      ),
      log: deps.log,
      retentionExempt: deps.retentionExempt,
    },
    {
      gc: { ...config.gc, uploadExpiryHours: config.registry.uploadExpiryHours },
      retention: config.retention.policies,
      enforceQuotas: config.quota.enforce,
    },
  );
}

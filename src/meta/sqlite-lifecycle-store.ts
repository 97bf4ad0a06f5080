/** LifecycleStore on the instance's SQLite database: GC's snapshot and rechecked deletes, quotas, runs. */
import type {
  GcSnapshot,
  LifecycleRunRecord,
  LifecycleStore,
  QuotaLinkResult,
  QuotaRecord,
  TagRecord,
} from "./lifecycle-types.ts";
import type { SqliteDatabase } from "./sqlite-database.ts";

/** `repository` belongs to namespace `?1`: a range on the primary key, not a LIKE ('_' is a wildcard). */
const inNamespace = "(repository = ?1 OR (repository > ?1 || '/' AND repository < ?1 || '0'))";

/** Nothing but the row itself names the digest: no link, no reference, no manifest, no upload. */
const unnamed = `NOT EXISTS (SELECT 1 FROM repository_blobs WHERE digest = ?1)
  AND NOT EXISTS (SELECT 1 FROM manifest_references WHERE child = ?1)
  AND NOT EXISTS (SELECT 1 FROM manifests WHERE digest = ?1)
  AND NOT EXISTS (SELECT 1 FROM uploads WHERE digest = ?1)`;

export class SqliteLifecycleStore implements LifecycleStore {
  readonly #db: SqliteDatabase;

  constructor(database: SqliteDatabase) {
    this.#db = database;
  }

  async gcSnapshot(): Promise<GcSnapshot> {
    const db = this.#db.db;
    // A deferred read transaction: in WAL mode every SELECT below sees the same snapshot.
    db.exec("BEGIN");
    try {
      const all = (sql: string) => this.#db.sql(sql).all();
      const snapshot: GcSnapshot = {
        manifests: all("SELECT repository, digest, subject, created_at FROM manifests").map(
          (r) => ({
            repository: String(r.repository),
            digest: String(r.digest),
            subject: r.subject === null ? undefined : String(r.subject),
            createdAt: Number(r.created_at),
          }),
        ),
        references: all("SELECT repository, parent, child, kind FROM manifest_references").map(
          (r) => ({
            repository: String(r.repository),
            parent: String(r.parent),
            child: String(r.child),
            kind: r.kind === "manifest" ? "manifest" : "blob",
          }),
        ),
        tags: all("SELECT repository, name, digest, updated_at FROM tags").map(toTag),
        links: all("SELECT repository, digest, created_at FROM repository_blobs").map((r) => ({
          repository: String(r.repository),
          digest: String(r.digest),
          linkedAt: Number(r.created_at),
        })),
        blobs: all("SELECT digest, size, created_at FROM blobs").map((r) => ({
          digest: String(r.digest),
          size: Number(r.size),
          createdAt: Number(r.created_at),
        })),
        uploadDigests: all("SELECT DISTINCT digest FROM uploads WHERE digest IS NOT NULL").map(
          (r) => String(r.digest),
        ),
      };
      return snapshot;
    } finally {
      db.exec("COMMIT");
    }
  }

  async deleteManifestIfUnkept(repository: string, digest: string, before: number) {
    const result = this.#db
      .sql(
        `DELETE FROM manifests AS m WHERE m.repository = ?1 AND m.digest = ?2 AND m.created_at < ?3
         AND NOT EXISTS (SELECT 1 FROM tags WHERE repository = ?1 AND digest = ?2)
         AND NOT EXISTS (SELECT 1 FROM manifest_references
                         WHERE repository = ?1 AND child = ?2 AND kind = 'manifest')
         AND (m.subject IS NULL OR NOT EXISTS
              (SELECT 1 FROM manifests WHERE repository = ?1 AND digest = m.subject))`,
      )
      .run(repository, digest, before);
    return Number(result.changes) > 0;
  }

  async unlinkBlobIfUnreferenced(repository: string, digest: string, before: number) {
    const result = this.#db
      .sql(
        `DELETE FROM repository_blobs WHERE repository = ?1 AND digest = ?2 AND created_at < ?3
         AND NOT EXISTS (SELECT 1 FROM manifest_references WHERE repository = ?1 AND child = ?2)
         AND NOT EXISTS (SELECT 1 FROM manifests WHERE repository = ?1 AND digest = ?2)`,
      )
      .run(repository, digest, before);
    return Number(result.changes) > 0;
  }

  async deleteBlobIfUnreferenced(digest: string, before: number) {
    const result = this.#db
      .sql(`DELETE FROM blobs WHERE digest = ?1 AND created_at < ?2 AND ${unnamed}`)
      .run(digest, before);
    return Number(result.changes) > 0;
  }

  async digestInUse(digest: string) {
    const row = this.#db
      .sql(`SELECT (EXISTS (SELECT 1 FROM blobs WHERE digest = ?1) OR NOT (${unnamed})) AS used`)
      .get(digest);
    return Number(row?.used) === 1;
  }

  async listTagRecords(repository: string): Promise<TagRecord[]> {
    return this.#db
      .sql(
        "SELECT repository, name, digest, updated_at FROM tags WHERE repository = ? ORDER BY updated_at DESC, name",
      )
      .all(repository)
      .map(toTag);
  }

  async deleteTagIf(repository: string, tag: string, digest: string) {
    const result = this.#db
      .sql("DELETE FROM tags WHERE repository = ? AND name = ? AND digest = ?")
      .run(repository, tag, digest);
    return Number(result.changes) > 0;
  }

  async allRepositories(): Promise<string[]> {
    return this.#db
      .sql("SELECT name FROM repositories ORDER BY name")
      .all()
      .map((r) => String(r.name));
  }

  async setQuota(namespace: string, bytes: number | undefined) {
    if (bytes === undefined) {
      this.#db.sql("DELETE FROM namespace_quotas WHERE namespace = ?").run(namespace);
      return;
    }
    this.#db
      .sql(
        `INSERT INTO namespace_quotas (namespace, bytes, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (namespace) DO UPDATE SET bytes = excluded.bytes, updated_at = excluded.updated_at`,
      )
      .run(namespace, bytes, Date.now());
  }

  async getQuota(namespace: string) {
    const row = this.#db
      .sql("SELECT bytes FROM namespace_quotas WHERE namespace = ?")
      .get(namespace);
    return row ? Number(row.bytes) : undefined;
  }

  async listQuotas(): Promise<QuotaRecord[]> {
    return this.#db
      .sql("SELECT namespace, bytes FROM namespace_quotas ORDER BY namespace")
      .all()
      .map((r) => ({ namespace: String(r.namespace), bytes: Number(r.bytes) }));
  }

  async namespaceUsage(namespace: string) {
    return this.#usage(namespace);
  }

  async namespaceHasBlob(namespace: string, digest: string) {
    return this.#holds(namespace, digest);
  }

  #holds(namespace: string, digest: string): boolean {
    const sql = `SELECT 1 FROM repository_blobs WHERE digest = ?2 AND ${inNamespace} LIMIT 1`;
    return this.#db.sql(sql).get(namespace, digest) !== undefined;
  }

  #usage(namespace: string): number {
    const row = this.#db
      .sql(
        `SELECT coalesce(sum(b.size), 0) AS used FROM blobs b WHERE b.digest IN
         (SELECT digest FROM repository_blobs WHERE ${inNamespace})`,
      )
      .get(namespace);
    return Number(row?.used ?? 0);
  }

  async allNamespaceUsage(): Promise<QuotaRecord[]> {
    return this.#db
      .sql(
        `SELECT ns AS namespace, coalesce(sum(b.size), 0) AS bytes FROM
           (SELECT DISTINCT CASE WHEN instr(repository, '/') > 0
              THEN substr(repository, 1, instr(repository, '/') - 1) ELSE repository END AS ns,
              digest FROM repository_blobs) l
         JOIN blobs b ON b.digest = l.digest GROUP BY ns ORDER BY ns`,
      )
      .all()
      .map((r) => ({ namespace: String(r.namespace), bytes: Number(r.bytes) }));
  }

  async linkBlobWithinQuota(
    repository: string,
    namespace: string,
    digest: string,
    size: number,
  ): Promise<QuotaLinkResult> {
    const now = Date.now();
    return this.#db.transaction(() => {
      const limitRow = this.#db
        .sql("SELECT bytes FROM namespace_quotas WHERE namespace = ?")
        .get(namespace);
      if (limitRow) {
        const limit = Number(limitRow.bytes);
        const used = this.#usage(namespace) + (this.#holds(namespace, digest) ? 0 : size);
        if (used > limit) return { ok: false, used, limit };
      }
      this.#db
        .sql("INSERT OR IGNORE INTO repositories (name, created_at) VALUES (?, ?)")
        .run(repository, now);
      this.#db
        .sql("INSERT OR IGNORE INTO blobs (digest, size, created_at) VALUES (?, ?, ?)")
        .run(digest, size, now);
      this.#db
        .sql(
          `INSERT INTO repository_blobs (repository, digest, created_at) VALUES (?, ?, ?)
           ON CONFLICT (repository, digest) DO UPDATE SET created_at = excluded.created_at`,
        )
        .run(repository, digest, now);
      return { ok: true };
    });
  }

  async recordRun(run: LifecycleRunRecord): Promise<number> {
    const result = this.#db
      .sql(
        `INSERT INTO lifecycle_runs (kind, trigger, dry_run, started_at, finished_at, report, error)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        run.kind,
        run.trigger,
        run.dryRun ? 1 : 0,
        run.startedAt,
        run.finishedAt,
        JSON.stringify(run.report ?? null),
        run.error ?? null,
      );
    // Keep the last few hundred runs; the table is a log for the API and UI, not an archive.
    this.#db
      .sql(
        "DELETE FROM lifecycle_runs WHERE id <= (SELECT id FROM lifecycle_runs ORDER BY id DESC LIMIT 1 OFFSET 200)",
      )
      .run();
    return Number(result.lastInsertRowid);
  }

  async listRuns(limit: number): Promise<LifecycleRunRecord[]> {
    return this.#db
      .sql("SELECT * FROM lifecycle_runs ORDER BY id DESC LIMIT ?")
      .all(limit)
      .map((r) => ({
        id: Number(r.id),
        kind: r.kind === "retention" ? "retention" : "gc",
        trigger: String(r.trigger),
        dryRun: Number(r.dry_run) === 1,
        startedAt: Number(r.started_at),
        finishedAt: Number(r.finished_at),
        report: JSON.parse(String(r.report)),
        ...(r.error === null ? {} : { error: String(r.error) }),
      }));
  }
}

function toTag(r: Record<string, unknown>): TagRecord {
  return {
    repository: String(r.repository),
    name: String(r.name),
    digest: String(r.digest),
    updatedAt: Number(r.updated_at),
  };
}

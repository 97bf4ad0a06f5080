/** MetaStore on SQLite through `node:sqlite` (no native build), WAL and full fsync. */
import type { StatementSync } from "node:sqlite";
import { SqliteDatabase } from "./sqlite-database.ts";
import {
  type ManifestRecord,
  type ManifestReference,
  type MetaStore,
  MissingBlobLinkError,
  type Page,
  type PutManifestOptions,
  type UploadRecord,
} from "./types.ts";

interface ManifestRow {
  repository: string;
  digest: string;
  media_type: string;
  size: number;
  artifact_type: string | null;
  subject: string | null;
  annotations: string | null;
  created_at: number;
}

export interface SqliteMetaStoreOptions {
  /** Database file, or ":memory:"; ignored when `database` is given. */
  path?: string;
  /** An open database shared with other stores (accounts). */
  database?: SqliteDatabase;
}

export class SqliteMetaStore implements MetaStore {
  readonly database: SqliteDatabase;
  readonly #owned: boolean;

  constructor(options: SqliteMetaStoreOptions) {
    this.#owned = options.database === undefined;
    this.database = options.database ?? new SqliteDatabase(options.path ?? ":memory:");
  }

  /** Schema version after migrations ran. */
  get schemaVersion(): number {
    return this.database.schemaVersion;
  }

  #sql(text: string): StatementSync {
    return this.database.sql(text);
  }

  #transaction<T>(work: () => T): T {
    return this.database.transaction(work);
  }

  #ensureRepository(name: string): void {
    this.#sql("INSERT OR IGNORE INTO repositories (name, created_at) VALUES (?, ?)").run(
      name,
      Date.now(),
    );
  }

  async ensureRepository(name: string): Promise<void> {
    this.#ensureRepository(name);
  }

  async repositoryExists(name: string): Promise<boolean> {
    return this.#sql("SELECT 1 FROM repositories WHERE name = ?").get(name) !== undefined;
  }

  async listRepositories(page: Page): Promise<string[]> {
    const rows = this.#sql(
      "SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?",
    ).all(page.last ?? "", page.limit);
    return rows.map((row) => String(row.name));
  }

  async deleteRepository(name: string): Promise<boolean> {
    return Number(this.#sql("DELETE FROM repositories WHERE name = ?").run(name).changes) > 0;
  }

  async linkBlob(repository: string, digest: string, size: number): Promise<void> {
    const now = Date.now();
    this.#transaction(() => {
      this.#ensureRepository(repository);
      this.#sql("INSERT OR IGNORE INTO blobs (digest, size, created_at) VALUES (?, ?, ?)").run(
        digest,
        size,
        now,
      );
      // Linking again refreshes the time: GC's grace window counts from the latest link.
      this.#sql(
        `INSERT INTO repository_blobs (repository, digest, created_at) VALUES (?, ?, ?)
         ON CONFLICT (repository, digest) DO UPDATE SET created_at = excluded.created_at`,
      ).run(repository, digest, now);
    });
  }

  async linkedBlobSize(repository: string, digest: string): Promise<number | undefined> {
    const row = this.#sql(
      "SELECT b.size AS size FROM repository_blobs r JOIN blobs b ON b.digest = r.digest WHERE r.repository = ? AND r.digest = ?",
    ).get(repository, digest);
    return row ? Number(row.size) : undefined;
  }

  async blobSize(digest: string): Promise<number | undefined> {
    const row = this.#sql("SELECT size FROM blobs WHERE digest = ?").get(digest);
    return row ? Number(row.size) : undefined;
  }

  async unlinkBlob(repository: string, digest: string): Promise<boolean> {
    const result = this.#sql(
      "DELETE FROM repository_blobs WHERE repository = ? AND digest = ?",
    ).run(repository, digest);
    return Number(result.changes) > 0;
  }

  async repositoriesWithBlob(digest: string, limit: number): Promise<string[]> {
    return this.#sql(
      "SELECT repository FROM repository_blobs WHERE digest = ? ORDER BY repository LIMIT ?",
    )
      .all(digest, limit)
      .map((row) => String(row.repository));
  }

  async referencedBlob(repository: string, digest: string): Promise<string | undefined> {
    const row = this.#sql(
      "SELECT parent FROM manifest_references WHERE repository = ? AND child = ? AND kind = 'blob' LIMIT 1",
    ).get(repository, digest);
    return row ? String(row.parent) : undefined;
  }

  async putManifest(
    record: ManifestRecord,
    references: ManifestReference[],
    tag?: string,
    options: PutManifestOptions = {},
  ): Promise<{ previousDigest?: string }> {
    const now = Date.now();
    return this.#transaction(() => {
      if (options.requireLinkedBlobs) {
        for (const reference of references) {
          if (reference.kind !== "blob") continue;
          const linked = this.#sql(
            "SELECT 1 FROM repository_blobs WHERE repository = ? AND digest = ?",
          ).get(record.repository, reference.digest);
          if (!linked) throw new MissingBlobLinkError(reference.digest);
        }
      }
      this.#ensureRepository(record.repository);
      this.#sql(
        `INSERT INTO manifests (repository, digest, media_type, size, artifact_type, subject, annotations, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (repository, digest) DO NOTHING`,
      ).run(
        record.repository,
        record.digest,
        record.mediaType,
        record.size,
        record.artifactType ?? null,
        record.subject ?? null,
        record.annotations ? JSON.stringify(record.annotations) : null,
        now,
      );
      for (const reference of references) {
        this.#sql(
          "INSERT OR IGNORE INTO manifest_references (repository, parent, child, kind) VALUES (?, ?, ?, ?)",
        ).run(record.repository, record.digest, reference.digest, reference.kind);
      }
      if (tag === undefined) return {};
      const previous = this.#sql("SELECT digest FROM tags WHERE repository = ? AND name = ?").get(
        record.repository,
        tag,
      );
      this.#sql(
        `INSERT INTO tags (repository, name, digest, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (repository, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at`,
      ).run(record.repository, tag, record.digest, now);
      return previous ? { previousDigest: String(previous.digest) } : {};
    });
  }

  async getManifest(repository: string, digest: string): Promise<ManifestRecord | undefined> {
    const row = this.#sql("SELECT * FROM manifests WHERE repository = ? AND digest = ?").get(
      repository,
      digest,
    ) as ManifestRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  async deleteManifest(repository: string, digest: string): Promise<string[] | undefined> {
    return this.#transaction(() => {
      const tags = this.#sql("SELECT name FROM tags WHERE repository = ? AND digest = ?")
        .all(repository, digest)
        .map((row) => String(row.name));
      const result = this.#sql("DELETE FROM manifests WHERE repository = ? AND digest = ?").run(
        repository,
        digest,
      );
      return Number(result.changes) > 0 ? tags : undefined;
    });
  }

  async listReferrers(repository: string, subject: string): Promise<ManifestRecord[]> {
    const rows = this.#sql(
      "SELECT * FROM manifests WHERE repository = ? AND subject = ? ORDER BY created_at, digest",
    ).all(repository, subject) as unknown as ManifestRow[];
    return rows.map(toRecord);
  }

  async resolveTag(repository: string, tag: string): Promise<string | undefined> {
    const row = this.#sql("SELECT digest FROM tags WHERE repository = ? AND name = ?").get(
      repository,
      tag,
    );
    return row ? String(row.digest) : undefined;
  }

  async listTags(repository: string, page: Page): Promise<string[]> {
    return this.#sql(
      "SELECT name FROM tags WHERE repository = ? AND name > ? ORDER BY name LIMIT ?",
    )
      .all(repository, page.last ?? "", page.limit)
      .map((row) => String(row.name));
  }

  async deleteTag(repository: string, tag: string): Promise<string | undefined> {
    const row = this.#sql(
      "DELETE FROM tags WHERE repository = ? AND name = ? RETURNING digest",
    ).get(repository, tag);
    return row ? String(row.digest) : undefined;
  }

  async createUpload(record: UploadRecord): Promise<void> {
    this.#sql(
      "INSERT INTO uploads (id, repository, created_at, updated_at) VALUES (?, ?, ?, ?)",
    ).run(record.id, record.repository, record.createdAt, record.updatedAt);
  }

  async getUpload(id: string): Promise<UploadRecord | undefined> {
    const row = this.#sql("SELECT * FROM uploads WHERE id = ?").get(id);
    return row ? toUpload(row) : undefined;
  }

  async touchUpload(id: string, at: number): Promise<void> {
    this.#sql("UPDATE uploads SET updated_at = ? WHERE id = ?").run(at, id);
  }

  async deleteUpload(id: string): Promise<void> {
    this.#sql("DELETE FROM uploads WHERE id = ?").run(id);
  }

  async markUploadDigest(id: string, digest: string): Promise<void> {
    this.#sql("UPDATE uploads SET digest = ? WHERE id = ?").run(digest, id);
  }

  async uploadsUpdatedBefore(time: number): Promise<UploadRecord[]> {
    return this.#sql("SELECT * FROM uploads WHERE updated_at < ? ORDER BY updated_at")
      .all(time)
      .map(toUpload);
  }

  async check(): Promise<string[]> {
    return this.database.check();
  }

  async close(): Promise<void> {
    if (this.#owned) this.database.close();
  }
}

function toRecord(row: ManifestRow): ManifestRecord {
  const record: ManifestRecord = {
    repository: row.repository,
    digest: row.digest,
    mediaType: row.media_type,
    size: Number(row.size),
    createdAt: Number(row.created_at),
  };
  if (row.artifact_type) record.artifactType = row.artifact_type;
  if (row.subject) record.subject = row.subject;
  if (row.annotations) record.annotations = JSON.parse(row.annotations);
  return record;
}

function toUpload(row: Record<string, unknown>): UploadRecord {
  return {
    id: String(row.id),
    repository: String(row.repository),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

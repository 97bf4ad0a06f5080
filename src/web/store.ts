/** The web module's reads over the registry's SQLite tables, and its own (migration 8). */
import type { SqliteDatabase } from "../meta/index.ts";

type Row = Record<string, unknown>;

/** Artifact types of signatures: cosign's and sigstore bundles. */
export const signatureArtifactTypes = [
  "application/vnd.dev.cosign.artifact.sig.v1+json",
  "application/vnd.dev.sigstore.bundle.v0.3+json",
  "application/vnd.dev.sigstore.bundle+json;version=0.3",
];

const signatureTypesSql = signatureArtifactTypes.map((t) => `'${t}'`).join(", ");
// Tags that only exist to attach things to a digest (cosign, the referrers fallback), not images.
const attachmentTag = "'sha256-*'";

export interface RepositoryRow {
  name: string;
  description: string;
  tags: number;
  lastPushAt?: number;
  score: number;
}

export interface TagRow {
  name: string;
  digest: string;
  mediaType: string;
  updatedAt: number;
}

export interface StoreSearch {
  query: string;
  namespace?: string;
  platform?: string;
  signed?: boolean;
  /** Only these repositories (e.g. mirrored ones), or all when undefined. */
  names?: string[];
  limit: number;
}

/** Escapes `%`, `_` and `\` for `LIKE ... ESCAPE '\'`. */
function like(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export class WebStore {
  readonly #db: SqliteDatabase;

  constructor(database: SqliteDatabase) {
    this.#db = database;
  }

  /** Repositories ranked for a query: exact name > prefix > substring > description or tag. */
  search(options: StoreSearch): RepositoryRow[] {
    const q = options.query.trim().toLowerCase();
    const sub = `%${like(q)}%`;
    const prefix = `${like(q)}%`;
    const rows = this.#db
      .sql(
        `WITH tagged AS (
           SELECT repository, count(*) AS tags, max(updated_at) AS last_push
           FROM tags WHERE name NOT GLOB ${attachmentTag} GROUP BY repository)
         SELECT r.name AS name, coalesce(w.description, '') AS description,
           coalesce(t.tags, 0) AS tags, t.last_push AS last_push,
           CASE
             WHEN :q = '' THEN 4
             WHEN r.name = :q OR substr(r.name, instr(r.name, '/') + 1) = :q THEN 0
             WHEN r.name LIKE :prefix ESCAPE '\\'
               OR substr(r.name, instr(r.name, '/') + 1) LIKE :prefix ESCAPE '\\' THEN 1
             WHEN r.name LIKE :sub ESCAPE '\\' THEN 2
             WHEN w.description LIKE :sub ESCAPE '\\' OR w.readme LIKE :sub ESCAPE '\\'
               OR EXISTS (SELECT 1 FROM tags x WHERE x.repository = r.name
                          AND x.name NOT GLOB ${attachmentTag} AND x.name LIKE :sub ESCAPE '\\') THEN 3
           END AS score
         FROM repositories r
         LEFT JOIN web_repositories w ON w.name = r.name
         LEFT JOIN tagged t ON t.repository = r.name
         WHERE score IS NOT NULL AND r.name NOT GLOB 'ipfs/*'
           AND (:ns = '' OR r.name LIKE :nsPrefix ESCAPE '\\')
           AND (:platform = '' OR EXISTS (
             SELECT 1 FROM web_platforms p JOIN tags g
               ON g.repository = p.repository AND g.digest = p.digest
             WHERE p.repository = r.name AND p.platform = :platform))
           AND (:signed = 0 OR ${signedExists("r.name")})
           AND (:names = '' OR r.name IN (SELECT value FROM json_each(:names)))
         ORDER BY score, t.last_push IS NULL, t.last_push DESC, r.name
         LIMIT :limit`,
      )
      .all({
        q,
        sub,
        prefix,
        ns: options.namespace ?? "",
        nsPrefix: `${like(options.namespace ?? "")}/%`,
        platform: options.platform ?? "",
        signed: options.signed ? 1 : 0,
        names: options.names ? JSON.stringify(options.names) : "",
        limit: options.limit,
      });
    return rows.map(toRepository);
  }

  /** Whether a repository exists here. */
  exists(name: string): boolean {
    return this.#db.sql("SELECT 1 FROM repositories WHERE name = ?").get(name) !== undefined;
  }

  /** Description and README (empty strings when never set). */
  about(name: string): { description: string; readme: string } {
    const row = this.#db
      .sql("SELECT description, readme FROM web_repositories WHERE name = ?")
      .get(name);
    return { description: String(row?.description ?? ""), readme: String(row?.readme ?? "") };
  }

  setAbout(name: string, about: { description?: string; readme?: string }): void {
    const current = this.about(name);
    this.#db
      .sql(
        `INSERT INTO web_repositories (name, description, readme, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET description = excluded.description,
           readme = excluded.readme, updated_at = excluded.updated_at`,
      )
      .run(
        name,
        about.description ?? current.description,
        about.readme ?? current.readme,
        Date.now(),
      );
  }

  /** Records the platforms of a manifest (replaces what was there). */
  putPlatforms(repository: string, digest: string, platforms: string[]): void {
    this.#db.transaction(() => {
      this.#db
        .sql("DELETE FROM web_platforms WHERE repository = ? AND digest = ?")
        .run(repository, digest);
      for (const platform of new Set(platforms)) {
        this.#db
          .sql("INSERT INTO web_platforms (repository, digest, platform) VALUES (?, ?, ?)")
          .run(repository, digest, platform);
      }
    });
  }

  platformsOf(repository: string, digest: string): string[] {
    return this.#db
      .sql(
        "SELECT platform FROM web_platforms WHERE repository = ? AND digest = ? ORDER BY platform",
      )
      .all(repository, digest)
      .map((r) => String(r.platform));
  }

  /** Platforms of a repository's tagged images. */
  repositoryPlatforms(repository: string): string[] {
    return this.#db
      .sql(
        `SELECT DISTINCT p.platform FROM web_platforms p JOIN tags g
           ON g.repository = p.repository AND g.digest = p.digest
         WHERE p.repository = ? ORDER BY p.platform`,
      )
      .all(repository)
      .map((r) => String(r.platform));
  }

  /** Every platform seen, for the search filter. */
  allPlatforms(): string[] {
    return this.#db
      .sql("SELECT DISTINCT platform FROM web_platforms ORDER BY platform LIMIT 100")
      .all()
      .map((r) => String(r.platform));
  }

  /** Image tags, newest first (attachment tags like `sha256-….sig` left out). */
  tags(repository: string, limit = 500): TagRow[] {
    return this.#db
      .sql(
        `SELECT g.name, g.digest, m.media_type, g.updated_at FROM tags g
         JOIN manifests m ON m.repository = g.repository AND m.digest = g.digest
         WHERE g.repository = ? AND g.name NOT GLOB ${attachmentTag}
         ORDER BY g.updated_at DESC, g.name LIMIT ?`,
      )
      .all(repository, limit)
      .map((r) => ({
        name: String(r.name),
        digest: String(r.digest),
        mediaType: String(r.media_type),
        updatedAt: Number(r.updated_at),
      }));
  }

  /** Digests in the repository that have a signature (cosign tag or a signature referrer). */
  signedDigests(repository: string): Set<string> {
    const signed = new Set<string>();
    const tagRows = this.#db
      .sql("SELECT name FROM tags WHERE repository = ? AND name GLOB 'sha256-*.sig'")
      .all(repository);
    for (const row of tagRows) {
      signed.add(`sha256:${String(row.name).slice("sha256-".length, -".sig".length)}`);
    }
    const referrers = this.#db
      .sql(
        `SELECT subject FROM manifests WHERE repository = ? AND subject IS NOT NULL
         AND artifact_type IN (${signatureTypesSql})`,
      )
      .all(repository);
    for (const row of referrers) signed.add(String(row.subject));
    return signed;
  }

  /** Blob count and bytes, and the repository count, for administrators. */
  storage(): { blobs: number; bytes: number; repositories: number } {
    const blobs = this.#db
      .sql("SELECT count(*) AS n, coalesce(sum(size), 0) AS b FROM blobs")
      .get();
    const repos = this.#db.sql("SELECT count(*) AS n FROM repositories").get();
    return {
      blobs: Number(blobs?.n ?? 0),
      bytes: Number(blobs?.b ?? 0),
      repositories: Number(repos?.n ?? 0),
    };
  }

  /** Every stored manifest (for indexing platforms of what was pushed before this module). */
  allManifests(): Array<{ repository: string; digest: string }> {
    return this.#db
      .sql("SELECT repository, digest FROM manifests")
      .all()
      .map((r) => ({ repository: String(r.repository), digest: String(r.digest) }));
  }

  setting(key: string): string | undefined {
    const row = this.#db.sql("SELECT value FROM web_settings WHERE key = ?").get(key);
    return row ? String(row.value) : undefined;
  }

  /** Remembers a signed-out session until it would have expired anyway; forgets expired ones. */
  signOut(id: string, expiresAt: number, now = Date.now()): void {
    this.#db.sql("DELETE FROM web_signed_out WHERE expires_at <= ?").run(now);
    this.#db
      .sql("INSERT OR IGNORE INTO web_signed_out (id, expires_at) VALUES (?, ?)")
      .run(id, expiresAt);
  }

  isSignedOut(id: string): boolean {
    return this.#db.sql("SELECT 1 FROM web_signed_out WHERE id = ?").get(id) !== undefined;
  }

  setSetting(key: string, value: string): void {
    this.#db
      .sql(
        "INSERT INTO web_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      )
      .run(key, value);
  }
}

function signedExists(name: string): string {
  return `(EXISTS (SELECT 1 FROM tags s WHERE s.repository = ${name} AND s.name GLOB 'sha256-*.sig')
    OR EXISTS (SELECT 1 FROM manifests m WHERE m.repository = ${name} AND m.subject IS NOT NULL
      AND m.artifact_type IN (${signatureTypesSql})))`;
}

function toRepository(row: Row): RepositoryRow {
  return {
    name: String(row.name),
    description: String(row.description ?? ""),
    tags: Number(row.tags ?? 0),
    lastPushAt:
      row.last_push === null || row.last_push === undefined ? undefined : Number(row.last_push),
    score: Number(row.score),
  };
}

/** What the mirror keeps about the repositories it tracks, and the evidence behind each tag. */
import type { SqliteDatabase } from "../meta/index.ts";

export interface TrackedRepository {
  actorId: string;
  localName: string;
  /** First component of `localName`: the origin's host, `:` written as `_`. */
  hostNamespace: string;
  registryUrl: string;
  name: string;
  trackedAt: Date;
  lastClaimAt?: Date;
  lastError?: string;
}

/** Why a tag is what it is here: the signed activity that said so, or the initial sync. */
export interface TagEvidence {
  localName: string;
  tag: string;
  digest: string;
  activityId?: string;
  objectId?: string;
  signer?: string;
  proof?: string;
  published?: Date;
  receivedAt: Date;
}

const date = (value: unknown) =>
  value === null || value === undefined ? undefined : new Date(Number(value));
const text = (value: unknown) =>
  value === null || value === undefined ? undefined : String(value);

/** The mirror's tables (migration 7) in the instance's SQLite database. */
export class SqliteMirrorStore {
  readonly #db: SqliteDatabase;

  constructor(database: SqliteDatabase) {
    this.#db = database;
  }

  /** Adds a tracked repository; false when its local name is already another actor's. */
  add(repository: Omit<TrackedRepository, "lastClaimAt" | "lastError">): boolean {
    return this.#db.transaction(() => {
      const existing = this.byLocalName(repository.localName);
      if (existing) return existing.actorId === repository.actorId;
      this.#db
        .sql(
          `INSERT INTO mirrored_repositories
             (actor_id, local_name, host_namespace, registry_url, name, tracked_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .run(
          repository.actorId,
          repository.localName,
          repository.hostNamespace,
          repository.registryUrl,
          repository.name,
          repository.trackedAt.getTime(),
        );
      return true;
    });
  }

  get(actorId: string): TrackedRepository | undefined {
    const row = this.#db.sql("SELECT * FROM mirrored_repositories WHERE actor_id = ?").get(actorId);
    return row ? toTracked(row) : undefined;
  }

  byLocalName(localName: string): TrackedRepository | undefined {
    const row = this.#db
      .sql("SELECT * FROM mirrored_repositories WHERE local_name = ?")
      .get(localName);
    return row ? toTracked(row) : undefined;
  }

  /** Whether any tracked repository lives in this host namespace. */
  hasNamespace(namespace: string): boolean {
    return (
      this.#db
        .sql("SELECT 1 FROM mirrored_repositories WHERE host_namespace = ? LIMIT 1")
        .get(namespace) !== undefined
    );
  }

  remove(actorId: string): boolean {
    const result = this.#db
      .sql("DELETE FROM mirrored_repositories WHERE actor_id = ?")
      .run(actorId);
    return Number(result.changes) > 0;
  }

  /** Every tracked repository with the number of tags the registry holds for it. */
  list(): Array<TrackedRepository & { tags: number }> {
    return this.#db
      .sql(
        `SELECT m.*, (SELECT count(*) FROM tags t WHERE t.repository = m.local_name) AS tag_count
         FROM mirrored_repositories m ORDER BY m.local_name`,
      )
      .all()
      .map((row) => ({ ...toTracked(row), tags: Number(row.tag_count) }));
  }

  noteClaim(actorId: string, at: Date): void {
    this.#db
      .sql(
        "UPDATE mirrored_repositories SET last_claim_at = ?, last_error = NULL WHERE actor_id = ?",
      )
      .run(at.getTime(), actorId);
  }

  noteError(actorId: string, message: string): void {
    this.#db
      .sql("UPDATE mirrored_repositories SET last_error = ? WHERE actor_id = ?")
      .run(message.slice(0, 1000), actorId);
  }

  recordTag(evidence: TagEvidence): void {
    this.#db
      .sql(
        `INSERT INTO mirror_tags
           (local_name, tag, digest, activity_id, object_id, signer, proof, published_at, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (local_name, tag) DO UPDATE SET digest = excluded.digest,
           activity_id = excluded.activity_id, object_id = excluded.object_id,
           signer = excluded.signer, proof = excluded.proof,
           published_at = excluded.published_at, received_at = excluded.received_at`,
      )
      .run(
        evidence.localName,
        evidence.tag,
        evidence.digest,
        evidence.activityId ?? null,
        evidence.objectId ?? null,
        evidence.signer ?? null,
        evidence.proof ?? null,
        evidence.published?.getTime() ?? null,
        evidence.receivedAt.getTime(),
      );
  }

  tagEvidence(localName: string, tag: string): TagEvidence | undefined {
    const row = this.#db
      .sql("SELECT * FROM mirror_tags WHERE local_name = ? AND tag = ?")
      .get(localName, tag);
    if (!row) return undefined;
    return {
      localName: String(row.local_name),
      tag: String(row.tag),
      digest: String(row.digest),
      activityId: text(row.activity_id),
      objectId: text(row.object_id),
      signer: text(row.signer),
      proof: text(row.proof),
      published: date(row.published_at),
      receivedAt: new Date(Number(row.received_at)),
    };
  }

  deleteTag(localName: string, tag: string): void {
    this.#db.sql("DELETE FROM mirror_tags WHERE local_name = ? AND tag = ?").run(localName, tag);
  }
}

function toTracked(row: Record<string, unknown>): TrackedRepository {
  return {
    actorId: String(row.actor_id),
    localName: String(row.local_name),
    hostNamespace: String(row.host_namespace),
    registryUrl: String(row.registry_url),
    name: String(row.name),
    trackedAt: new Date(Number(row.tracked_at)),
    lastClaimAt: date(row.last_claim_at),
    lastError: text(row.last_error),
  };
}

/** Stars, boosts, reports, the Notes this instance published, and its outbox. */
import { randomUUID } from "node:crypto";
import type { SqliteDatabase } from "../meta/index.ts";
import type { BoostRecord, ReportRecord } from "./types.ts";

export type Origin = "local" | "remote";

export interface NoteRow {
  repository: string;
  tag: string;
  id: string;
  digest: string;
  json: string;
  createdAt: number;
}

const str = (v: unknown) => (v === null || v === undefined ? undefined : String(v));

export class SocialStore {
  readonly #db: SqliteDatabase;

  constructor(database: SqliteDatabase) {
    this.#db = database;
  }

  /** Records a star; false when this liker had already starred the target. */
  addStar(target: string, liker: string, origin: Origin, activityId?: string): boolean {
    const result = this.#db
      .sql(
        `INSERT OR IGNORE INTO federation_stars (target, liker, origin, activity_id, created_at)
         VALUES (?, ?, ?, ?, ?)`,
      )
      .run(target, liker, origin, activityId ?? null, Date.now());
    return Number(result.changes) > 0;
  }

  /** Removes a star; returns the Like's id it was recorded with, or null when there was none. */
  removeStar(target: string, liker: string): string | undefined | null {
    const row = this.#db
      .sql("SELECT activity_id FROM federation_stars WHERE target = ? AND liker = ?")
      .get(target, liker);
    if (!row) return null;
    this.#db.sql("DELETE FROM federation_stars WHERE target = ? AND liker = ?").run(target, liker);
    return str(row.activity_id);
  }

  /** Removes the star a remote Like created, by the Like's id and its actor. */
  removeStarByActivity(activityId: string, liker: string): boolean {
    const result = this.#db
      .sql("DELETE FROM federation_stars WHERE activity_id = ? AND liker = ?")
      .run(activityId, liker);
    return Number(result.changes) > 0;
  }

  hasStar(target: string, liker: string): boolean {
    return Boolean(
      this.#db
        .sql("SELECT 1 FROM federation_stars WHERE target = ? AND liker = ?")
        .get(target, liker),
    );
  }

  stars(target: string, offset = 0, limit = 1_000_000) {
    return this.#db
      .sql(
        `SELECT liker, origin, activity_id, created_at FROM federation_stars WHERE target = ?
         ORDER BY created_at, liker LIMIT ? OFFSET ?`,
      )
      .all(target, limit, offset)
      .map((r) => ({
        liker: String(r.liker),
        origin: String(r.origin) as Origin,
        activityId: str(r.activity_id),
        createdAt: Number(r.created_at),
      }));
  }

  count(table: "federation_stars" | "federation_boosts", target: string): number {
    const row = this.#db.sql(`SELECT count(*) AS n FROM ${table} WHERE target = ?`).get(target);
    return Number(row?.n ?? 0);
  }

  addBoost(
    target: string,
    booster: string,
    origin: Origin,
    label: string,
    activityId?: string,
  ): boolean {
    const result = this.#db
      .sql(
        `INSERT OR IGNORE INTO federation_boosts (target, booster, origin, label, activity_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(target, booster, origin, label, activityId ?? null, Date.now());
    return Number(result.changes) > 0;
  }

  removeBoost(target: string, booster: string): string | undefined | null {
    const row = this.#db
      .sql("SELECT activity_id FROM federation_boosts WHERE target = ? AND booster = ?")
      .get(target, booster);
    if (!row) return null;
    this.#db
      .sql("DELETE FROM federation_boosts WHERE target = ? AND booster = ?")
      .run(target, booster);
    return str(row.activity_id);
  }

  removeBoostByActivity(activityId: string, booster: string): boolean {
    const result = this.#db
      .sql("DELETE FROM federation_boosts WHERE activity_id = ? AND booster = ?")
      .run(activityId, booster);
    return Number(result.changes) > 0;
  }

  /** Boosts by this instance and its users (the curated list), newest first. */
  localBoosts(): BoostRecord[] {
    return this.#db
      .sql(
        "SELECT target, booster, label, created_at FROM federation_boosts WHERE origin = 'local' ORDER BY created_at DESC",
      )
      .all()
      .map((r) => ({
        actorId: String(r.target),
        label: String(r.label),
        by: String(r.booster),
        createdAt: new Date(Number(r.created_at)),
      }));
  }

  /** Boosts seen from remote actors, newest first. */
  remoteBoosts(limit: number): BoostRecord[] {
    return this.#db
      .sql(
        "SELECT target, booster, label, created_at FROM federation_boosts WHERE origin = 'remote' ORDER BY created_at DESC LIMIT ?",
      )
      .all(limit)
      .map((r) => ({
        actorId: String(r.target),
        label: String(r.label),
        by: String(r.booster),
        createdAt: new Date(Number(r.created_at)),
      }));
  }

  addReport(report: Omit<ReportRecord, "id" | "createdAt" | "resolvedAt">, activityId?: string) {
    const id = randomUUID();
    this.#db
      .sql(
        `INSERT INTO federation_reports (id, reporter, origin, target, label, text, activity_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        report.reporter,
        report.origin,
        report.targetActorId,
        report.label,
        report.text,
        activityId ?? null,
        Date.now(),
      );
    return id;
  }

  reports(includeResolved: boolean): ReportRecord[] {
    return this.#db
      .sql(
        `SELECT * FROM federation_reports ${includeResolved ? "" : "WHERE resolved_at IS NULL"}
         ORDER BY created_at DESC`,
      )
      .all()
      .map((r) => ({
        id: String(r.id),
        reporter: String(r.reporter),
        origin: String(r.origin) as Origin,
        targetActorId: String(r.target),
        label: String(r.label),
        text: String(r.text),
        createdAt: new Date(Number(r.created_at)),
        resolvedAt: r.resolved_at === null ? undefined : new Date(Number(r.resolved_at)),
      }));
  }

  resolveReport(id: string): boolean {
    const result = this.#db
      .sql("UPDATE federation_reports SET resolved_at = ? WHERE id = ? AND resolved_at IS NULL")
      .run(Date.now(), id);
    return Number(result.changes) > 0;
  }

  note(repository: string, tag: string): NoteRow | undefined {
    const row = this.#db
      .sql("SELECT * FROM federation_notes WHERE repository = ? AND tag = ?")
      .get(repository, tag);
    return row ? noteRow(row) : undefined;
  }

  noteById(id: string): NoteRow | undefined {
    const row = this.#db.sql("SELECT * FROM federation_notes WHERE id = ?").get(id);
    return row ? noteRow(row) : undefined;
  }

  putNote(note: NoteRow): void {
    this.#db
      .sql(
        `INSERT INTO federation_notes (repository, tag, id, digest, json, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repository, tag) DO UPDATE SET
         digest = excluded.digest, json = excluded.json, updated_at = excluded.updated_at`,
      )
      .run(note.repository, note.tag, note.id, note.digest, note.json, note.createdAt, Date.now());
  }

  deleteNote(repository: string, tag: string): void {
    this.#db
      .sql("DELETE FROM federation_notes WHERE repository = ? AND tag = ?")
      .run(repository, tag);
  }

  addOutbox(id: string, actor: string, json: string, published: number): void {
    this.#db
      .sql(
        "INSERT OR REPLACE INTO federation_outbox (id, actor, json, published) VALUES (?, ?, ?, ?)",
      )
      .run(id, actor, json, published);
  }

  removeOutbox(id: string): void {
    this.#db.sql("DELETE FROM federation_outbox WHERE id = ?").run(id);
  }

  outbox(actor: string, offset: number, limit: number): string[] {
    return this.#db
      .sql(
        "SELECT json FROM federation_outbox WHERE actor = ? ORDER BY published DESC, id LIMIT ? OFFSET ?",
      )
      .all(actor, limit, offset)
      .map((r) => String(r.json));
  }

  outboxCount(actor: string): number {
    const row = this.#db
      .sql("SELECT count(*) AS n FROM federation_outbox WHERE actor = ?")
      .get(actor);
    return Number(row?.n ?? 0);
  }
}

function noteRow(r: Record<string, unknown>): NoteRow {
  return {
    repository: String(r.repository),
    tag: String(r.tag),
    id: String(r.id),
    digest: String(r.digest),
    json: String(r.json),
    createdAt: Number(r.created_at),
  };
}

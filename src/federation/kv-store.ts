/** Fedify's key–value store (caches, idempotence, circuit state) in the instance's SQLite file. */
import type { KvKey, KvStore, KvStoreListEntry, KvStoreSetOptions } from "@fedify/fedify";
import type { SqliteDatabase } from "../meta/index.ts";

/** Milliseconds of a Temporal duration; days count as 24 hours (Fedify's durations are short). */
export function durationMs(duration: Temporal.Duration | undefined): number {
  if (!duration) return 0;
  return Math.max(0, duration.total({ unit: "millisecond" }));
}

export class SqliteKvStore implements KvStore {
  readonly #db: SqliteDatabase;
  readonly #now: () => number;

  constructor(database: SqliteDatabase, options: { now?: () => number } = {}) {
    this.#db = database;
    this.#now = options.now ?? Date.now;
  }

  async get<T = unknown>(key: KvKey): Promise<T | undefined> {
    const raw = this.#read(encodeKey(key));
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }

  async set(key: KvKey, value: unknown, options?: KvStoreSetOptions): Promise<void> {
    this.#write(encodeKey(key), value, options);
  }

  async delete(key: KvKey): Promise<void> {
    this.#db.sql("DELETE FROM federation_kv WHERE key = ?").run(encodeKey(key));
  }

  async cas(
    key: KvKey,
    expectedValue: unknown,
    newValue: unknown,
    options?: KvStoreSetOptions,
  ): Promise<boolean> {
    const encoded = encodeKey(key);
    return this.#db.transaction(() => {
      const current = this.#read(encoded);
      const expected = expectedValue === undefined ? undefined : JSON.stringify(expectedValue);
      if (current !== expected) return false;
      this.#write(encoded, newValue, options);
      return true;
    });
  }

  async *list(prefix?: KvKey): AsyncIterable<KvStoreListEntry> {
    const now = this.#now();
    let rows: Array<Record<string, unknown>>;
    if (!prefix) {
      rows = this.#db
        .sql("SELECT key, value FROM federation_kv WHERE expires_at IS NULL OR expires_at > ?")
        .all(now);
    } else {
      // A key is a JSON array; every key under the prefix starts with the prefix's text and a comma.
      const exact = encodeKey(prefix);
      const open = exact.slice(0, -1);
      rows = this.#db
        .sql(
          `SELECT key, value FROM federation_kv
           WHERE (key = ? OR (key >= ? AND key < ?)) AND (expires_at IS NULL OR expires_at > ?)
           ORDER BY key`,
        )
        .all(exact, `${open},`, `${open}-`, now);
    }
    for (const row of rows) {
      yield {
        key: JSON.parse(String(row.key)) as KvKey,
        value: JSON.parse(String(row.value)) as unknown,
      };
    }
  }

  /** Drops expired entries; returns how many. */
  purgeExpired(): number {
    const result = this.#db
      .sql("DELETE FROM federation_kv WHERE expires_at IS NOT NULL AND expires_at <= ?")
      .run(this.#now());
    return Number(result.changes);
  }

  #read(encoded: string): string | undefined {
    const row = this.#db
      .sql("SELECT value, expires_at FROM federation_kv WHERE key = ?")
      .get(encoded);
    if (!row) return undefined;
    if (row.expires_at !== null && Number(row.expires_at) <= this.#now()) return undefined;
    return String(row.value);
  }

  #write(encoded: string, value: unknown, options?: KvStoreSetOptions): void {
    const ttl = options?.ttl ? durationMs(options.ttl) : undefined;
    this.#db
      .sql(
        `INSERT INTO federation_kv (key, value, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
      )
      .run(encoded, JSON.stringify(value ?? null), ttl === undefined ? null : this.#now() + ttl);
  }
}

function encodeKey(key: KvKey): string {
  return JSON.stringify(key);
}

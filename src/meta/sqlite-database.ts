/** One SQLite database file shared by the stores that live in it: migrations, statements, transactions. */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { migrations } from "./migrations.ts";

export class SqliteDatabase {
  readonly db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  #depth = 0;

  /** Opens (or creates) the database at `path` (":memory:" for tests) and migrates it. */
  constructor(path: string) {
    this.db = new DatabaseSync(path, { enableForeignKeyConstraints: true });
    this.db.exec("PRAGMA journal_mode = WAL");
    this.db.exec("PRAGMA synchronous = FULL");
    this.db.exec("PRAGMA busy_timeout = 5000");
    this.#migrate();
  }

  get schemaVersion(): number {
    const row = this.db.prepare("SELECT max(version) AS v FROM schema_migrations").get();
    return Number(row?.v ?? 0);
  }

  /** A cached prepared statement. */
  sql(text: string): StatementSync {
    let statement = this.#statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  /** Runs `work` in one transaction; nested calls join the outer one. */
  transaction<T>(work: () => T): T {
    if (this.#depth > 0) return work();
    this.db.exec("BEGIN IMMEDIATE");
    this.#depth++;
    try {
      const result = work();
      this.db.exec("COMMIT");
      return result;
    } catch (error) {
      this.db.exec("ROLLBACK");
      throw error;
    } finally {
      this.#depth--;
    }
  }

  /** SQLite's integrity and foreign key checks; empty when healthy. */
  check(): string[] {
    const problems: string[] = [];
    for (const row of this.db.prepare("PRAGMA integrity_check").all()) {
      const message = String(Object.values(row)[0]);
      if (message !== "ok") problems.push(message);
    }
    for (const row of this.db.prepare("PRAGMA foreign_key_check").all()) {
      problems.push(`foreign key violation in ${String(row.table)} row ${String(row.rowid)}`);
    }
    return problems;
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  #migrate(): void {
    this.db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    );
    // Applied by version, not by "above the highest": a migration merged later with a lower
    // number than one already applied still runs.
    const applied = new Set(
      this.db
        .prepare("SELECT version FROM schema_migrations")
        .all()
        .map((row) => Number(row.version)),
    );
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      this.transaction(() => {
        this.db.exec(migration.sql);
        this.db
          .prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)")
          .run(migration.version, migration.name, Date.now());
      });
    }
  }
}

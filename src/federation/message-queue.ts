/**
 * Fedify's message queue (deliveries, inbox work, fan-out) in the instance's SQLite file, so
 * nothing queued is lost when the process stops. One process works the queue; other processes on
 * the same data directory (the CLI) may enqueue, and the worker finds their messages by polling.
 */
import type {
  MessageQueue,
  MessageQueueDepth,
  MessageQueueEnqueueOptions,
  MessageQueueListenOptions,
} from "@fedify/fedify";
import type { Logger } from "../log/index.ts";
import type { SqliteDatabase } from "../meta/index.ts";
import { hostMatchesDomain } from "./domains.ts";
import { durationMs } from "./kv-store.ts";

export interface SqliteMessageQueueOptions {
  /** How often to look for messages other processes enqueued or delays that ran out. */
  pollMs?: number;
  /** Messages handled at once (deliveries to slow hosts should not hold up the rest). */
  concurrency?: number;
  /** A failing handler is retried this many times, then the message is dropped. */
  maxAttempts?: number;
  /** Messages for which this answers true are dropped instead of stored or handled. */
  drop?: (message: unknown) => boolean;
  now?: () => number;
}

interface Claimed {
  id: number;
  message: string;
  attempts: number;
}

export class SqliteMessageQueue implements MessageQueue {
  readonly nativeRetrial = false;
  readonly #db: SqliteDatabase;
  readonly #log: Logger;
  readonly #pollMs: number;
  readonly #concurrency: number;
  readonly #maxAttempts: number;
  readonly #drop: (message: unknown) => boolean;
  readonly #now: () => number;
  #wake: (() => void) | undefined;

  constructor(database: SqliteDatabase, log: Logger, options: SqliteMessageQueueOptions = {}) {
    this.#db = database;
    this.#log = log;
    this.#pollMs = options.pollMs ?? 1000;
    this.#concurrency = options.concurrency ?? 4;
    this.#maxAttempts = options.maxAttempts ?? 5;
    this.#drop = options.drop ?? (() => false);
    this.#now = options.now ?? Date.now;
  }

  async enqueue(message: unknown, options?: MessageQueueEnqueueOptions): Promise<void> {
    await this.enqueueMany([message], options);
  }

  async enqueueMany(
    messages: readonly unknown[],
    options?: MessageQueueEnqueueOptions,
  ): Promise<void> {
    const now = this.#now();
    const readyAt = now + durationMs(options?.delay);
    const insert = this.#db.sql(
      `INSERT INTO federation_queue (message, ordering_key, target_host, ready_at, created_at)
       VALUES (?, ?, ?, ?, ?)`,
    );
    this.#db.transaction(() => {
      for (const message of messages) {
        if (this.#drop(message)) continue;
        insert.run(
          JSON.stringify(message),
          options?.orderingKey ?? null,
          targetHost(message) ?? null,
          readyAt,
          now,
        );
      }
    });
    this.#wake?.();
  }

  async getDepth(): Promise<MessageQueueDepth> {
    const row = this.#db
      .sql(
        `SELECT count(*) AS queued, coalesce(sum(ready_at <= ?), 0) AS ready
         FROM federation_queue WHERE claimed_at IS NULL`,
      )
      .get(this.#now());
    const queued = Number(row?.queued ?? 0);
    const ready = Number(row?.ready ?? 0);
    return { queued, ready, delayed: queued - ready };
  }

  /** Drops every waiting delivery to a blocked domain (and its subdomains); returns how many. */
  purgeDomain(domain: string): number {
    const rows = this.#db
      .sql(
        "SELECT id, target_host FROM federation_queue WHERE claimed_at IS NULL AND target_host IS NOT NULL",
      )
      .all();
    const remove = this.#db.sql("DELETE FROM federation_queue WHERE id = ?");
    let removed = 0;
    this.#db.transaction(() => {
      for (const row of rows) {
        if (!hostMatchesDomain(String(row.target_host), domain)) continue;
        remove.run(Number(row.id));
        removed++;
      }
    });
    return removed;
  }

  async listen(
    handler: (message: unknown) => Promise<void> | void,
    options: MessageQueueListenOptions = {},
  ): Promise<void> {
    const { signal } = options;
    // One worker per data directory: claims still held were left by a process that stopped mid-way.
    this.#db
      .sql("UPDATE federation_queue SET claimed_at = NULL WHERE claimed_at IS NOT NULL")
      .run();
    const running = new Set<Promise<void>>();
    while (!signal?.aborted) {
      const free = this.#concurrency - running.size;
      const claimed = free > 0 ? this.#claim(free) : [];
      for (const entry of claimed) {
        const task = this.#handle(entry, handler).finally(() => {
          running.delete(task);
          this.#wake?.();
        });
        running.add(task);
      }
      if (claimed.length === 0 || running.size >= this.#concurrency) await this.#sleep(signal);
    }
    await Promise.allSettled(running);
  }

  #claim(limit: number): Claimed[] {
    const now = this.#now();
    return this.#db.transaction(() => {
      // Messages sharing an ordering key go one at a time, oldest first.
      const rows = this.#db
        .sql(
          `SELECT id, message, attempts FROM federation_queue AS q
           WHERE claimed_at IS NULL AND ready_at <= ?
             AND (ordering_key IS NULL OR NOT EXISTS (
               SELECT 1 FROM federation_queue AS p
               WHERE p.ordering_key = q.ordering_key AND p.id < q.id))
           ORDER BY ready_at, id LIMIT ?`,
        )
        .all(now, limit);
      const mark = this.#db.sql("UPDATE federation_queue SET claimed_at = ? WHERE id = ?");
      for (const row of rows) mark.run(now, row.id as number);
      return rows.map((row) => ({
        id: Number(row.id),
        message: String(row.message),
        attempts: Number(row.attempts),
      }));
    });
  }

  async #handle(entry: Claimed, handler: (message: unknown) => Promise<void> | void) {
    const message = JSON.parse(entry.message) as unknown;
    try {
      if (!this.#drop(message)) await handler(message);
      this.#db.sql("DELETE FROM federation_queue WHERE id = ?").run(entry.id);
    } catch (error) {
      const attempts = entry.attempts + 1;
      if (attempts >= this.#maxAttempts) {
        this.#log.error({ err: error, attempts }, "queued message failed; dropped");
        this.#db.sql("DELETE FROM federation_queue WHERE id = ?").run(entry.id);
        return;
      }
      this.#log.warn({ err: error, attempts }, "queued message failed; will retry");
      this.#db
        .sql(
          "UPDATE federation_queue SET claimed_at = NULL, attempts = ?, ready_at = ? WHERE id = ?",
        )
        .run(attempts, this.#now() + 1000 * 2 ** attempts, entry.id);
    }
  }

  /** Waits for an enqueue, a finished message, the next due message, the poll interval or abort. */
  async #sleep(signal: AbortSignal | undefined): Promise<void> {
    const next = this.#db
      .sql("SELECT min(ready_at) AS at FROM federation_queue WHERE claimed_at IS NULL")
      .get();
    const due = next?.at === null || next?.at === undefined ? Infinity : Number(next.at);
    const untilDue = due - this.#now();
    // A due message still here is waiting behind its ordering key: a finished task wakes us.
    const wait = untilDue > 0 ? Math.max(10, Math.min(this.#pollMs, untilDue)) : this.#pollMs;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, wait);
      this.#wake = done;
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}

/** The host a queued delivery goes to, so a blocked domain's backlog can be dropped. */
export function targetHost(message: unknown): string | undefined {
  if (typeof message !== "object" || message === null) return undefined;
  const inbox = (message as { type?: unknown; inbox?: unknown }).inbox;
  if ((message as { type?: unknown }).type !== "outbox" || typeof inbox !== "string") return;
  try {
    return new URL(inbox).host;
  } catch {
    return undefined;
  }
}

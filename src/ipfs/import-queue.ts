/**
 * The background import queue, kept out of the way of pushes: an import starts only once the
 * registry has been quiet for a moment (a push is a burst of commits ending with its manifest),
 * or after `maxDelayMs` at the latest, and runs one blob at a time. Asking for a CID (`now`)
 * skips the wait; the same blob is never imported twice at once.
 */
import type { CID } from "multiformats/cid";

export interface ImportQueueOptions {
  /** Start after this long without a new blob or manifest (default 500 ms). */
  quietMs?: number;
  /** ...but never later than this after the oldest waiting one was queued (default 3 s). */
  maxDelayMs?: number;
}

export class ImportQueue {
  readonly #import: (digest: string) => Promise<CID | undefined>;
  readonly #onError: (error: unknown, digest: string) => void;
  readonly #quietMs: number;
  readonly #maxDelayMs: number;
  readonly #waiting = new Set<string>();
  readonly #running = new Map<string, Promise<CID | undefined>>();
  #oldest = 0;
  #latest = 0;
  #forced = false;
  #timer: NodeJS.Timeout | undefined;
  #draining: Promise<void> | undefined;
  #stopped = false;

  constructor(
    importer: (digest: string) => Promise<CID | undefined>,
    onError: (error: unknown, digest: string) => void,
    options: ImportQueueOptions = {},
  ) {
    this.#import = importer;
    this.#onError = onError;
    this.#quietMs = options.quietMs ?? 500;
    this.#maxDelayMs = options.maxDelayMs ?? 3000;
  }

  /** Queues a blob or manifest for import in the background. */
  add(digest: string): void {
    if (this.#stopped) return;
    const now = Date.now();
    if (this.#waiting.size === 0) this.#oldest = now;
    this.#latest = now;
    this.#waiting.add(digest);
    this.#schedule();
  }

  /** Drops a queued blob (its bytes went); an import already running finishes. */
  forget(digest: string): void {
    this.#waiting.delete(digest);
  }

  /** Imports one now (a CID was asked for), sharing an import of it already running. */
  now(digest: string): Promise<CID | undefined> {
    this.#waiting.delete(digest);
    let running = this.#running.get(digest);
    if (!running) {
      running = this.#import(digest).finally(() => this.#running.delete(digest));
      this.#running.set(digest, running);
    }
    return running;
  }

  /** Resolves once everything queued so far is imported (starting at once). */
  async idle(): Promise<void> {
    clearTimeout(this.#timer);
    await this.#drain(true);
    await Promise.allSettled([...this.#running.values()]);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#waiting.clear();
    await this.#draining;
    await Promise.allSettled([...this.#running.values()]);
  }

  /** How long until the queue may start: quiet for `quietMs`, or the oldest waited its most. */
  #delay(): number {
    const now = Date.now();
    const quiet = this.#latest + this.#quietMs - now;
    const due = this.#oldest + this.#maxDelayMs - now;
    return Math.max(0, Math.min(quiet, due));
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#drain(false), this.#delay());
    this.#timer.unref();
  }

  #drain(force: boolean): Promise<void> {
    if (force) this.#forced = true;
    this.#draining ??= (async () => {
      while (!this.#stopped && this.#waiting.size > 0) {
        // New content arrived while the last import ran: another push is on, wait for it.
        if (!this.#forced && this.#delay() > 0) {
          this.#schedule();
          break;
        }
        const digest = this.#waiting.values().next().value as string;
        await this.now(digest).catch((error) => this.#onError(error, digest));
      }
    })().finally(() => {
      this.#draining = undefined;
      this.#forced = false;
    });
    return this.#draining;
  }
}

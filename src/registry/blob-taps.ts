/**
 * The responses that stream one fetch of a missing blob: each is a tap, attached to its socket
 * once its headers went out; the fetch writes every chunk to all of them, at the pace of the
 * slowest, and tells each how it ended.
 */
import type { Writable } from "node:stream";
import { drained } from "../storage/index.ts";

/** A tap not attached to a response within this time is dropped, so it cannot stall a fetch. */
const attachTimeoutMs = 10_000;
/** Bytes a response may have queued before the fetch waits for it. */
const maxQueuedBytes = 4 << 20;

export class TapDroppedError extends Error {
  constructor() {
    super("the response did not start reading the fetch in time");
    this.name = "TapDroppedError";
  }
}

/** One response's share of a fetch. */
export class Tap {
  out: Writable | undefined;
  #attached!: () => void;
  readonly attached = new Promise<void>((resolve) => {
    this.#attached = resolve;
  });
  readonly #finished = Promise.withResolvers<void>();
  released = false;

  constructor() {
    // A tap whose response never attached still hears the outcome; nobody may be listening.
    this.#finished.promise.catch(() => {});
  }

  /** Streams the fetch into `out`; resolves when all of it was written, verified. */
  attach(out: Writable): Promise<void> {
    if (this.released) return Promise.reject(new TapDroppedError());
    this.out = out;
    this.#attached();
    return this.#finished.promise;
  }

  /** This response will not stream (HEAD, 304, a refused range). */
  release(): void {
    this.released = true;
    this.#attached();
    this.#finished.resolve();
  }

  finish(error?: unknown): void {
    if (error) this.#finished.reject(error);
    else this.#finished.resolve();
  }
}

/** The taps of one fetch, and whether its bytes began to flow. */
export interface TapSet {
  readonly taps: Set<Tap>;
  flowing: boolean;
}

/**
 * Waits until every tap is attached to its response (or dropped after a while), then marks the
 * fill as flowing in the same tick, so no request can join between the check and the first byte.
 */
export async function startFlowing(fill: TapSet): Promise<void> {
  const deadline = Date.now() + attachTimeoutMs;
  for (;;) {
    const pending = [...fill.taps].filter((tap) => !tap.out && !tap.released);
    if (pending.length === 0 || Date.now() >= deadline) {
      for (const tap of pending) {
        fill.taps.delete(tap);
        tap.release();
      }
      fill.flowing = true;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    });
    await Promise.race([Promise.all(pending.map((tap) => tap.attached)), timeout]);
    clearTimeout(timer);
  }
}

/** Writes a chunk to every attached response, waiting for slow ones; gone ones are dropped. */
export async function broadcast(fill: TapSet, chunk: Uint8Array): Promise<void> {
  const waits: Promise<void>[] = [];
  for (const tap of fill.taps) {
    const out = tap.out;
    if (!out) {
      // Joined after the bytes began: it could only send a blob with its start missing.
      fill.taps.delete(tap);
      tap.finish(new TapDroppedError());
      continue;
    }
    if (out.destroyed || out.writableEnded) {
      fill.taps.delete(tap);
      tap.finish();
      continue;
    }
    // Waiting for every write to drain (16 KiB by default) costs a turn per network chunk; a
    // few MiB queued per response bound memory just as well.
    out.write(chunk);
    if (out.writableLength > maxQueuedBytes) waits.push(drained(out));
  }
  await Promise.all(waits);
}

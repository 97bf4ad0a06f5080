import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { CID } from "multiformats/cid";
import { ImportQueue } from "./import-queue.ts";
import { cidFromSha256Digest } from "./importer.ts";

const d = (n: number) => `sha256:${n.toString(16).padStart(64, "0")}`;

/** An importer that records what it imported, optionally held until released. */
function recorder() {
  const imported: string[] = [];
  let gate: Promise<void> | undefined;
  const importer = async (digest: string): Promise<CID> => {
    imported.push(digest);
    await gate;
    return cidFromSha256Digest(digest);
  };
  return {
    imported,
    importer,
    hold() {
      const held = Promise.withResolvers<void>();
      gate = held.promise;
      return () => {
        gate = undefined;
        held.resolve();
      };
    },
  };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail("not in time");
    await sleep(10);
  }
}

describe("ImportQueue", () => {
  it("waits for the registry to be quiet before importing", async () => {
    const r = recorder();
    const queue = new ImportQueue(r.importer, () => {}, { quietMs: 300, maxDelayMs: 10_000 });
    queue.add(d(1));
    await sleep(50);
    queue.add(d(2));
    await sleep(50);
    // Timers fire late on a busy machine, never early: nothing may have started yet.
    assert.deepEqual(r.imported, []);
    await until(() => r.imported.length === 2);
    assert.deepEqual(r.imported, [d(1), d(2)]);
    await queue.stop();
  });

  it("starts after maxDelayMs even while content keeps coming", async () => {
    const r = recorder();
    const queue = new ImportQueue(r.importer, () => {}, { quietMs: 60_000, maxDelayMs: 100 });
    queue.add(d(1));
    await until(() => r.imported.length === 1);
    await queue.stop();
  });

  it("imports at once when a CID is asked for, sharing an import already running", async () => {
    const r = recorder();
    const queue = new ImportQueue(r.importer, () => {}, { quietMs: 60_000, maxDelayMs: 60_000 });
    queue.add(d(3));
    const release = r.hold();
    const first = queue.now(d(3));
    const second = queue.now(d(3));
    release();
    assert.ok((await first)?.equals(cidFromSha256Digest(d(3))));
    assert.ok((await second)?.equals(cidFromSha256Digest(d(3))));
    assert.deepEqual(r.imported, [d(3)], "one import for two questions; the queued one dropped");
    await queue.idle();
    assert.deepEqual(r.imported, [d(3)]);
    await queue.stop();
  });

  it("drops a queued blob that was purged, and drains on idle()", async () => {
    const r = recorder();
    const failures: string[] = [];
    const queue = new ImportQueue(
      async (digest) => {
        if (digest === d(6)) throw new Error("unreadable");
        return r.importer(digest);
      },
      (_error, digest) => failures.push(digest),
      { quietMs: 60_000, maxDelayMs: 60_000 },
    );
    queue.add(d(4));
    queue.add(d(5));
    queue.add(d(6));
    queue.forget(d(4));
    await queue.idle();
    assert.deepEqual(r.imported, [d(5)]);
    assert.deepEqual(failures, [d(6)], "a failed import is reported, the queue goes on");
    await queue.stop();
    queue.add(d(7));
    await queue.idle();
    assert.deepEqual(r.imported, [d(5)], "nothing is imported after stop");
  });
});

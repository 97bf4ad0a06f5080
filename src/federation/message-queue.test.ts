import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { silentLogger } from "../log/index.ts";
import { SqliteDatabase } from "../meta/index.ts";
import { SqliteKvStore } from "./kv-store.ts";
import { SqliteMessageQueue } from "./message-queue.ts";

// Fedify hands the queue Temporal durations; only `total` is used.
const seconds = (s: number) => ({ total: () => s * 1000 }) as unknown as Temporal.Duration;

async function withDir(work: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), "flotilla-queue-"));
  try {
    await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Listens until `count` messages arrived, then stops the worker. */
async function receive(queue: SqliteMessageQueue, count: number): Promise<unknown[]> {
  const got: unknown[] = [];
  const controller = new AbortController();
  const timeout = setTimeout(() => controller.abort(), 10_000);
  await queue.listen(
    (message) => {
      got.push(message);
      if (got.length >= count) controller.abort();
    },
    { signal: controller.signal },
  );
  clearTimeout(timeout);
  return got;
}

test("a message enqueued before a restart is delivered after it", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "meta.db");
    const first = new SqliteDatabase(path);
    await new SqliteMessageQueue(first, silentLogger()).enqueue({ type: "outbox", n: 1 });
    first.close();

    const second = new SqliteDatabase(path);
    const queue = new SqliteMessageQueue(second, silentLogger(), { pollMs: 20 });
    assert.deepEqual(await receive(queue, 1), [{ type: "outbox", n: 1 }]);
    assert.equal((await queue.getDepth()).queued, 0);
    second.close();
  });
});

test("a message claimed by a process that died is handled again after a restart", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "meta.db");
    const first = new SqliteDatabase(path);
    await new SqliteMessageQueue(first, silentLogger()).enqueue({ n: 1 });
    first.sql("UPDATE federation_queue SET claimed_at = 1").run();
    first.close();
    const second = new SqliteDatabase(path);
    assert.deepEqual(await receive(new SqliteMessageQueue(second, silentLogger()), 1), [{ n: 1 }]);
    second.close();
  });
});

test("a delayed message waits for its delay; ordering keys keep order", async () => {
  const db = new SqliteDatabase(":memory:");
  const queue = new SqliteMessageQueue(db, silentLogger(), { pollMs: 20, concurrency: 4 });
  const started = Date.now();
  await queue.enqueue({ n: "late" }, { delay: seconds(0.3) });
  await queue.enqueue({ n: "a1" }, { orderingKey: "a" });
  await queue.enqueue({ n: "a2" }, { orderingKey: "a" });
  await queue.enqueue({ n: "now" });
  const depth = await queue.getDepth();
  assert.equal(depth.queued, 4);
  assert.equal(depth.delayed, 1);
  const got = (await receive(queue, 4)) as Array<{ n: string }>;
  assert.equal(got.at(-1)?.n, "late");
  assert.ok(Date.now() - started >= 300);
  const order = got.map((m) => m.n);
  assert.ok(order.indexOf("a1") < order.indexOf("a2"));
  db.close();
});

test("a failing handler is retried, then the message is dropped", async () => {
  const db = new SqliteDatabase(":memory:");
  const queue = new SqliteMessageQueue(db, silentLogger(), { pollMs: 10, maxAttempts: 2 });
  await queue.enqueue({ n: 1 });
  let calls = 0;
  const controller = new AbortController();
  db.sql("UPDATE federation_queue SET ready_at = 0").run();
  const listening = queue.listen(
    () => {
      calls++;
      // Make the retry due at once instead of after its backoff.
      setImmediate(() => db.sql("UPDATE federation_queue SET ready_at = 0").run());
      if (calls >= 2) setTimeout(() => controller.abort(), 50);
      throw new Error("remote down");
    },
    { signal: controller.signal },
  );
  await listening;
  assert.equal(calls, 2);
  assert.equal((await queue.getDepth()).queued, 0);
  db.close();
});

test("purgeDomain drops waiting deliveries to a domain and its subdomains only", async () => {
  const db = new SqliteDatabase(":memory:");
  const queue = new SqliteMessageQueue(db, silentLogger());
  await queue.enqueue({ type: "outbox", inbox: "https://evil.example/inbox" });
  await queue.enqueue({ type: "outbox", inbox: "https://a.evil.example:8443/inbox" });
  await queue.enqueue({ type: "outbox", inbox: "https://notevil.example/inbox" });
  assert.equal(queue.purgeDomain("evil.example"), 2);
  assert.equal((await queue.getDepth()).queued, 1);
  db.close();
});

test("the key-value store: get, set with TTL, CAS and prefix listing", async () => {
  let now = 1000;
  const db = new SqliteDatabase(":memory:");
  const kv = new SqliteKvStore(db, { now: () => now });
  await kv.set(["a", "b"], { x: 1 });
  await kv.set(["a", "b", "c"], 2);
  await kv.set(["a", "bc"], 3);
  await kv.set(["t"], "soon gone", { ttl: seconds(1) });
  assert.deepEqual(await kv.get(["a", "b"]), { x: 1 });
  const listed = [];
  for await (const entry of kv.list(["a", "b"])) listed.push(entry.key.join("/"));
  assert.deepEqual(listed.sort(), ["a/b", "a/b/c"]);
  assert.equal(await kv.cas?.(["a", "bc"], 4, 5), false);
  assert.equal(await kv.cas?.(["a", "bc"], 3, 5), true);
  assert.equal(await kv.get(["a", "bc"]), 5);
  assert.equal(await kv.cas?.(["new"], undefined, 1), true);
  assert.equal(await kv.get(["t"]), "soon gone");
  now += 1001;
  assert.equal(await kv.get(["t"]), undefined);
  assert.equal(kv.purgeExpired(), 1);
  await kv.delete(["a", "b"]);
  assert.equal(await kv.get(["a", "b"]), undefined);
  db.close();
});

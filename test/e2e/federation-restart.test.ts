/**
 * Deliveries survive restarts: A publishes while its follower B is down; A stops with the delivery
 * still queued in its database; both come back and B receives the Note.
 */
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, test } from "node:test";
import { flotilla } from "../helpers/cli.ts";
import type { Instance } from "../helpers/instance.ts";
import { api, pushImage, startFederated, waitFor } from "./federation-support.ts";

const running: Instance[] = [];

after(async () => {
  await Promise.all(running.map((i) => i.stop()));
  // Started with keepData (to restart on it): remove the directories here.
  await Promise.all(
    [...new Set(running.map((i) => i.dataDir))].map((d) => rm(d, { recursive: true, force: true })),
  );
});

function rows(dataDir: string, sql: string, ...params: string[]) {
  const db = new DatabaseSync(join(dataDir, "meta.db"), { readOnly: true });
  try {
    return db.prepare(sql).all(...params) as Array<Record<string, unknown>>;
  } finally {
    db.close();
  }
}

test("a Note queued before both instances restart is delivered after", async () => {
  let a = await startFederated({ keepData: true });
  let b = await startFederated({ keepData: true });
  running.push(a, b);
  const created = await flotilla(
    a.dataDir,
    ["user", "add", "alice", "--password-stdin"],
    "password-123\n",
  );
  assert.equal(created.code, 0, created.stderr);
  await pushImage(a.url, "alice/app", "1.0");
  const repoActor = `${a.url}/ap/repos/alice/app`;
  assert.equal((await api(b, "POST", "/api/v1/admin/follows", { target: repoActor })).status, 201);
  await waitFor(
    "B's follow accepted",
    async () => rows(b.dataDir, "SELECT state FROM federation_following")[0]?.state === "accepted",
  );

  assert.equal(await b.stop(), 0);
  const digest = await pushImage(a.url, "alice/app", "2.0");
  // The first attempt fails (B is down); the retry waits in A's queue.
  await waitFor(
    "a delivery to B waiting in A's queue",
    async () =>
      rows(a.dataDir, "SELECT * FROM federation_queue WHERE target_host = ?", b.host).length > 0,
  );
  assert.equal(await a.stop(), 0);

  b = await startFederated({ port: b.port, dataDir: b.dataDir, keepData: true });
  a = await startFederated({ port: a.port, dataDir: a.dataDir, keepData: true });
  running.push(a, b);
  const claim = await waitFor(
    "B receives the Note queued before the restart",
    async () =>
      rows(
        b.dataDir,
        "SELECT digest FROM federation_remote_tags WHERE actor_id = ? AND tag = '2.0'",
        repoActor,
      )[0],
    60_000,
  );
  assert.equal(claim.digest, digest);
  assert.equal(
    rows(a.dataDir, "SELECT * FROM federation_queue WHERE target_host = ?", b.host).length,
    0,
  );
});

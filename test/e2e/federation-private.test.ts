/**
 * With access control on: private repositories have no actor and publish nothing; a remote Flag
 * lands in the administrators' queue; the inbox refuses oversized and too frequent deliveries.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, test } from "node:test";
import { Flag, Like } from "@fedify/vocab";
import { flotilla } from "../helpers/cli.ts";
import { admin, type Instance } from "../helpers/instance.ts";
import { type FakePeer, startFakePeer } from "./federation-peer.ts";
import { getAp, pushImage, startFederated, waitFor } from "./federation-support.ts";

let a: Instance;
let peer: FakePeer;

before(async () => {
  [a, peer] = await Promise.all([
    startFederated({
      auth: true,
      env: {
        FLOTILLA_FEDERATION_INBOX_MAX_BYTES: "4096",
        FLOTILLA_FEDERATION_INBOX_PER_HOST_PER_MINUTE: "6",
      },
    }),
    startFakePeer(),
  ]);
});

after(async () => {
  await Promise.all([a?.dispose(), peer?.close()]);
});

async function pushAsAdmin(repository: string, tag: string): Promise<string> {
  const basic = Buffer.from(`${admin.user}:${admin.password}`).toString("base64");
  const url = `${a.url}/token?service=${a.host}&scope=repository:${repository}:pull,push`;
  const token = (
    (await (await fetch(url, { headers: { Authorization: `Basic ${basic}` } })).json()) as {
      token: string;
    }
  ).token;
  return pushImage(a.url, repository, tag, `${repository}:${tag}`, {
    Authorization: `Bearer ${token}`,
  });
}

function notes(): string[] {
  const db = new DatabaseSync(join(a.dataDir, "meta.db"), { readOnly: true });
  try {
    return db
      .prepare("SELECT repository || ':' || tag AS t FROM federation_notes ORDER BY t")
      .all()
      .map((r) => String(r.t));
  } finally {
    db.close();
  }
}

test("a private repository has no actor, no Notes, and publishes nothing", async () => {
  await pushAsAdmin("team/app", "1.0");
  await pushAsAdmin("team/secret", "1.0");
  const noteId = (await getAp(`${a.url}/ap/repos/team/secret`)).id;
  assert.equal(noteId, `${a.url}/ap/repos/team/secret`);
  const made = await flotilla(a.dataDir, ["visibility", "team/secret", "private"]);
  assert.equal(made.code, 0, made.stderr);

  const actor = await fetch(`${a.url}/ap/repos/team/secret`, {
    headers: { Accept: "application/activity+json" },
  });
  assert.equal(actor.status, 404);
  const outbox = await fetch(`${a.url}/ap/outbox/repos%2Fteam%2Fsecret`, {
    headers: { Accept: "application/activity+json" },
  });
  assert.equal(outbox.status, 404);
  await pushAsAdmin("team/secret", "2.0");
  await pushAsAdmin("team/app", "2.0");
  // Publishing follows the push; the public repository's Note shows it has happened.
  await waitFor("the public repository's Note", async () => notes().includes("team/app:2.0"));
  assert.deepEqual(notes(), ["team/app:1.0", "team/app:2.0", "team/secret:1.0"]);
  // The namespace lists only its public repositories.
  const featured = await getAp(`${a.url}/ap/featured/orgs/team`);
  const items = featured.orderedItems ?? featured.items;
  assert.deepEqual(
    (Array.isArray(items) ? items : [items]).map((i) => (i as { id: string }).id),
    [`${a.url}/ap/repos/team/app`],
  );
});

test("a remote Flag lands in the administrators' queue; a remote Like is counted", async () => {
  const target = `${a.url}/ap/repos/team/app`;
  const flagged = await peer.send(
    `${a.url}/ap/inbox`,
    new Flag({
      id: new URL(`${peer.url}/activities/flag-1`),
      actor: new URL(peer.actorId),
      object: new URL(target),
      content: "ships a cryptominer",
    }),
  );
  assert.equal(flagged.status, 202);
  const liked = await peer.send(
    `${a.url}/ap/inbox/repos/team/app`,
    new Like({
      id: new URL(`${peer.url}/activities/like-1`),
      actor: new URL(peer.actorId),
      object: new URL(target),
    }),
  );
  assert.equal(liked.status, 202);
  let reports: Array<{ reporter: string; target: string; text: string }> = [];
  for (let i = 0; i < 100 && reports.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    reports = JSON.parse((await flotilla(a.dataDir, ["reports", "--json"])).stdout);
  }
  assert.deepEqual(
    reports.map((r) => [r.reporter, r.target, r.text]),
    [[peer.actorId, "team/app", "ships a cryptominer"]],
  );
  const likes = await getAp(`${a.url}/ap/likes/repos/team/app`);
  assert.equal(likes.totalItems, 1);
});

test("the inbox refuses oversized deliveries (413) and too many from one host (429)", async () => {
  const big = new Flag({
    id: new URL(`${peer.url}/activities/big`),
    actor: new URL(peer.actorId),
    object: new URL(`${a.url}/ap/repos/team/app`),
    content: "x".repeat(5000),
  });
  assert.equal((await peer.send(`${a.url}/ap/inbox`, big)).status, 413);
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) {
    const like = new Like({
      id: new URL(`${peer.url}/activities/burst-${i}`),
      actor: new URL(peer.actorId),
      object: new URL(`${a.url}/ap/repos/team/app`),
    });
    statuses.push((await peer.send(`${a.url}/ap/inbox`, like)).status);
  }
  assert.ok(statuses.includes(429), statuses.join(","));
  assert.ok(statuses.slice(statuses.indexOf(429)).every((s) => s === 429));
});

test("the follows API is for administrators only", async () => {
  const created = await flotilla(
    a.dataDir,
    ["user", "add", "dave", "--password-stdin"],
    "password-123\n",
  );
  assert.equal(created.code, 0, created.stderr);
  const as = (user: string, password: string) => ({
    Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
  });
  const url = `${a.url}/api/v1/admin/follows`;
  const anonymous = await fetch(url);
  assert.equal(anonymous.status, 401);
  assert.equal(
    ((await anonymous.json()) as { errors: Array<{ code: string }> }).errors[0]?.code,
    "UNAUTHORIZED",
  );
  const user = await fetch(url, { headers: as("dave", "password-123") });
  assert.equal(user.status, 403);
  assert.equal(
    ((await user.json()) as { errors: Array<{ code: string }> }).errors[0]?.code,
    "DENIED",
  );
  const wrong = await fetch(url, {
    method: "POST",
    headers: as(admin.user, "wrong-password"),
    body: "{}",
  });
  assert.equal(wrong.status, 401);
  const ok = await fetch(url, { headers: as(admin.user, admin.password) });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { follows: [] });
  // The CLI uses the configured administrator's credentials.
  const listed = await flotilla(a.dataDir, ["follows", "--json"], "", {
    FLOTILLA_PUBLIC_URL: a.url,
    FLOTILLA_ADMIN_USER: admin.user,
    FLOTILLA_ADMIN_PASSWORD: admin.password,
  });
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(JSON.parse(listed.stdout), []);
  // Without them, the operator's CLI signs itself an administrator's token with the instance's key.
  const asOperator = await flotilla(a.dataDir, ["follows", "--json"], "", {
    FLOTILLA_PUBLIC_URL: a.url,
  });
  assert.equal(asOperator.code, 0, asOperator.stderr);
  assert.deepEqual(JSON.parse(asOperator.stdout), []);
  const refused = await flotilla(a.dataDir, ["follows", "--creds", "dave:password-123"], "", {
    FLOTILLA_PUBLIC_URL: a.url,
  });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /403/);
});

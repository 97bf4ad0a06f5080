/**
 * Three instances on loopback: B follows a repository on A and gets its Notes; C follows B's user;
 * B's administrator boosts A's repository and C receives the Announce; a user on C stars A's
 * repository and A counts the star.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, test } from "node:test";
import { flotilla } from "../helpers/cli.ts";
import type { Instance } from "../helpers/instance.ts";
import {
  api,
  collectionItems,
  getAp,
  pushImage,
  startFederated,
  waitFor,
} from "./federation-support.ts";

let a: Instance;
let b: Instance;
let c: Instance;

before(async () => {
  [a, b, c] = await Promise.all([startFederated(), startFederated(), startFederated()]);
  for (const [instance, user] of [
    [a, "alice"],
    [b, "admin"],
    [c, "carol"],
  ] as const) {
    const created = await flotilla(
      instance.dataDir,
      ["user", "add", user, "--password-stdin"],
      "password-123\n",
    );
    assert.equal(created.code, 0, created.stderr);
  }
});

after(async () => {
  await Promise.all([a, b, c].map((i) => i?.dispose()));
});

/** Rows of a running instance's database (read-only, the way an operator would look). */
function rows(
  instance: Instance,
  sql: string,
  ...params: string[]
): Array<Record<string, unknown>> {
  const db = new DatabaseSync(join(instance.dataDir, "meta.db"), { readOnly: true });
  try {
    return db.prepare(sql).all(...params) as Array<Record<string, unknown>>;
  } finally {
    db.close();
  }
}

test("B follows a repository on A, is accepted, and receives its Notes", async () => {
  await pushImage(a.url, "alice/app", "1.0");
  const repoActor = `${a.url}/ap/repos/alice/app`;
  const followed = await api(b, "POST", "/api/v1/admin/follows", { target: repoActor });
  assert.equal(followed.status, 201, await followed.clone().text());
  const follow = ((await followed.json()) as { follow: { state: string; kind: string } }).follow;
  assert.equal(follow.kind, "repository");

  await waitFor("B's follow accepted", async () => {
    const list = (await (await api(b, "GET", "/api/v1/admin/follows")).json()) as {
      follows: Array<{ actorId: string; state: string }>;
    };
    return list.follows.find((f) => f.actorId === repoActor && f.state === "accepted");
  });
  const followers = await collectionItems(`${a.url}/ap/followers/repos/alice/app`);
  assert.deepEqual(followers, [`${b.url}/ap/instance`]);

  const digest = await pushImage(a.url, "alice/app", "1.1");
  const claim = await waitFor(
    "B records A's tag claim",
    async () =>
      rows(
        b,
        "SELECT * FROM federation_remote_tags WHERE actor_id = ? AND tag = '1.1'",
        repoActor,
      )[0],
  );
  assert.equal(claim.digest, digest);
  const known = rows(
    b,
    "SELECT * FROM federation_remote_repositories WHERE actor_id = ?",
    repoActor,
  )[0];
  assert.equal(known?.name, "alice/app");
  assert.equal(known?.registry_url, a.url);
  // The mirror keeps the evidence: who signed the claim (A's repository's Ed25519 key) and the proof.
  const evidence = await waitFor(
    "B's mirror keeps the tag with its evidence",
    async () =>
      rows(
        b,
        "SELECT * FROM mirror_tags WHERE local_name = ? AND tag = '1.1'",
        `127.0.0.1_${a.port}/alice/app`,
      )[0],
  );
  assert.equal(evidence.digest, digest);
  assert.match(String(evidence.signer), new RegExp(`^${repoActor}#multikey-`));
  const proof = JSON.parse(String(evidence.proof)) as { cryptosuite: string; proofValue: string };
  assert.equal(proof.cryptosuite, "eddsa-jcs-2022");
  assert.ok(proof.proofValue.length > 40);

  // A's outbox has a Create for each tag, each with an Ed25519 proof.
  const outbox = (await collectionItems(`${a.url}/ap/outbox/repos%2Falice%2Fapp`)) as Array<
    Record<string, unknown>
  >;
  assert.equal(outbox.length, 2);
  assert.ok(outbox.every((activity) => activity.type === "Create"));

  // Moving a tag is an Update of the same Note.
  const moved = await pushImage(a.url, "alice/app", "1.1", "moved");
  await waitFor(
    "B sees the tag move",
    async () =>
      rows(
        b,
        "SELECT digest FROM federation_remote_tags WHERE actor_id = ? AND tag = '1.1'",
        repoActor,
      )[0]?.digest === moved,
  );
  const latest = (await collectionItems(`${a.url}/ap/outbox/repos%2Falice%2Fapp`))[0] as Record<
    string,
    unknown
  >;
  assert.equal(latest.type, "Update");
  const note = latest.object as Record<string, unknown>;
  const dereferenced = await getAp(String(note.id));
  assert.equal(dereferenced.type, "Note");
});

test("C follows B's user, B's admin boosts A's repository, C receives the Announce", async () => {
  const userActor = `${b.url}/ap/users/admin`;
  const followed = await api(c, "POST", "/api/v1/admin/follows", { target: `@admin@${b.host}` });
  assert.equal(followed.status, 201, await followed.clone().text());
  await waitFor(
    "C's follow of B's user accepted",
    async () =>
      rows(c, "SELECT state FROM federation_following WHERE actor_id = ?", userActor)[0]?.state ===
      "accepted",
  );

  const repoActor = `${a.url}/ap/repos/alice/app`;
  const boosted = await flotilla(b.dataDir, ["boost", repoActor, "--as", "admin"], "", {
    FLOTILLA_OUTBOUND_ALLOW_PRIVATE_ADDRESSES: "true",
    FLOTILLA_PUBLIC_URL: b.url,
  });
  assert.equal(boosted.code, 0, boosted.stderr);

  const seen = await waitFor(
    "C receives the Announce",
    async () => rows(c, "SELECT * FROM federation_boosts WHERE target = ?", repoActor)[0],
  );
  assert.equal(seen.booster, userActor);
  assert.equal(seen.origin, "remote");
  assert.equal(seen.label, `${a.host}/alice/app`);
  // C learned the repository from its origin, for search.
  const known = rows(
    c,
    "SELECT * FROM federation_remote_repositories WHERE actor_id = ?",
    repoActor,
  )[0];
  assert.equal(known?.name, "alice/app");
  // A counts B's boost too (the Announce also went to the repository's origin).
  await waitFor(
    "A counts the boost",
    async () => rows(a, "SELECT * FROM federation_boosts WHERE target = ?", repoActor).length === 1,
  );
});

test("a star from a user on C shows on A's counts", async () => {
  const repoActor = `${a.url}/ap/repos/alice/app`;
  const starred = await flotilla(c.dataDir, ["star", "carol", repoActor], "", {
    FLOTILLA_OUTBOUND_ALLOW_PRIVATE_ADDRESSES: "true",
    FLOTILLA_PUBLIC_URL: c.url,
  });
  assert.equal(starred.code, 0, starred.stderr);
  const likes = await waitFor("A counts the star", async () => {
    const collection = await getAp(`${a.url}/ap/likes/repos/alice/app`);
    return collection.totalItems === 1 ? collection : undefined;
  });
  assert.equal(likes.totalItems, 1);
  const items = await collectionItems(`${a.url}/ap/likes/repos/alice/app`);
  assert.equal((items[0] as { actor: string }).actor, `${c.url}/ap/users/carol`);

  const unstarred = await flotilla(c.dataDir, ["star", "carol", repoActor, "--undo"], "", {
    FLOTILLA_OUTBOUND_ALLOW_PRIVATE_ADDRESSES: "true",
    FLOTILLA_PUBLIC_URL: c.url,
  });
  assert.equal(unstarred.code, 0, unstarred.stderr);
  await waitFor(
    "A drops the star",
    async () => (await getAp(`${a.url}/ap/likes/repos/alice/app`)).totalItems === 0,
  );
});

test("following a namespace by handle (CLI) mirrors each repository as its Notes arrive; unfollow undoes it", async () => {
  const env = { FLOTILLA_PUBLIC_URL: b.url };
  const followed = await flotilla(b.dataDir, ["follow", `@alice@${a.host}`], "", env);
  assert.equal(followed.code, 0, followed.stderr);
  assert.match(followed.stdout, new RegExp(`following @alice@${a.host}`));
  const aliceActor = `${a.url}/ap/users/alice`;
  await waitFor("B's follow of @alice accepted", async () => {
    const listed = await flotilla(b.dataDir, ["follows", "--json"], "", env);
    const rowsListed = JSON.parse(listed.stdout) as Array<{
      actor: string;
      state: string;
      kind: string;
    }>;
    return rowsListed.find(
      (f) => f.actor === aliceActor && f.state === "accepted" && f.kind === "namespace",
    );
  });
  const followers = await collectionItems(`${a.url}/ap/followers/users/alice`);
  assert.ok(followers.includes(`${b.url}/ap/instance`));

  // A repository B has never heard of: its first Note reaches B through the namespace follow.
  const digest = await pushImage(a.url, "alice/other", "0.1");
  const otherActor = `${a.url}/ap/repos/alice/other`;
  const claim = await waitFor(
    "B records the new repository's tag",
    async () =>
      rows(
        b,
        "SELECT digest FROM federation_remote_tags WHERE actor_id = ? AND tag = '0.1'",
        otherActor,
      )[0],
  );
  assert.equal(claim.digest, digest);
  const known = rows(
    b,
    "SELECT namespace_actor FROM federation_remote_repositories WHERE actor_id = ?",
    otherActor,
  );
  assert.equal(known[0]?.namespace_actor, aliceActor);

  const mirrored = async () =>
    (
      JSON.parse((await flotilla(b.dataDir, ["mirrors", "--json"], "", env)).stdout) as Array<{
        actorId: string;
      }>
    ).map((m) => m.actorId);
  await waitFor("B mirrors the repository", async () => (await mirrored()).includes(otherActor));

  const unfollowed = await flotilla(b.dataDir, ["unfollow", `@alice@${a.host}`], "", env);
  assert.equal(unfollowed.code, 0, unfollowed.stderr);
  // What came through the namespace follow stops being mirrored with it.
  assert.ok(!(await mirrored()).includes(otherActor));
  await waitFor(
    "A drops B from alice's followers",
    async () =>
      !(await collectionItems(`${a.url}/ap/followers/users/alice`)).includes(
        `${b.url}/ap/instance`,
      ),
  );
  const missing = await flotilla(b.dataDir, ["unfollow", `@alice@${a.host}`], "", env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /not followed/);
});

test("the follows API refuses what it cannot follow with the right status", async () => {
  const cases: Array<[unknown, number, string]> = [
    [{ target: "alice/app" }, 404, "NAME_UNKNOWN"],
    [{ target: `${b.url}/ap/instance` }, 400, "NAME_INVALID"],
    [{ target: "" }, 400, "UNSUPPORTED"],
    [{ nothing: true }, 400, "UNSUPPORTED"],
    ["not an object", 400, "UNSUPPORTED"],
  ];
  for (const [body, status, code] of cases) {
    const res = await api(b, "POST", "/api/v1/admin/follows", body);
    assert.equal(res.status, status, JSON.stringify(body));
    const parsed = (await res.json()) as { errors: Array<{ code: string }> };
    assert.equal(parsed.errors[0]?.code, code);
  }
  const bad = await fetch(`${b.url}/api/v1/admin/follows`, { method: "POST", body: "{not json" });
  assert.equal(bad.status, 400);
});

/**
 * Forged and replayed activities change nothing. Instance B follows a repository on instance A
 * and one on a fake peer C (which signs its deliveries like any server); each forgery is refused
 * and B's record of every tag stays as it was.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, test } from "node:test";
import { Accept, Create, Note, PropertyValue } from "@fedify/vocab";
import { Temporal } from "@js-temporal/polyfill";
import { flotilla } from "../helpers/cli.ts";
import type { Instance } from "../helpers/instance.ts";
import { type FakePeer, startFakePeer } from "./federation-peer.ts";
import { api, pushImage, startFederated, waitFor } from "./federation-support.ts";

let a: Instance;
let b: Instance;
let peer: FakePeer;
let aDigest: string;
let counter = 0;
const digestOf = (char: string) => `sha256:${char.repeat(64)}`;
const baselineDigest = digestOf("a");

/** Rows of B's database, read as an operator would. */
function tags(): Array<{ actor_id: string; tag: string; digest: string }> {
  const db = new DatabaseSync(join(b.dataDir, "meta.db"), { readOnly: true });
  try {
    return db
      .prepare("SELECT actor_id, tag, digest FROM federation_remote_tags ORDER BY actor_id, tag")
      .all()
      .map((row) => ({ ...row })) as Array<{ actor_id: string; tag: string; digest: string }>;
  } finally {
    db.close();
  }
}

/** A Create of a tag Note; every field can be bent by the forgery under test. */
function claim(o: {
  id?: string;
  actor?: string;
  noteId?: string;
  attributedTo?: string;
  repository?: string;
  registry?: string;
  tag: string;
  digest: string;
  published?: number;
}) {
  counter++;
  const actor = o.actor ?? peer.actorId;
  const when = Temporal.Instant.fromEpochMilliseconds(o.published ?? Date.now());
  return new Create({
    id: new URL(o.id ?? `${peer.url}/activities/${counter}`),
    actor: new URL(actor),
    published: when as never,
    object: new Note({
      id: new URL(o.noteId ?? `${peer.url}/notes/${counter}`),
      attribution: new URL(o.attributedTo ?? actor),
      content: `<p>${o.tag}</p>`,
      published: when as never,
      attachments: [
        new PropertyValue({ name: "repository", value: o.repository ?? "mallory/app" }),
        new PropertyValue({ name: "registry", value: o.registry ?? peer.url }),
        new PropertyValue({ name: "tag", value: o.tag }),
        new PropertyValue({ name: "digest", value: o.digest }),
        new PropertyValue({
          name: "mediaType",
          value: "application/vnd.oci.image.manifest.v1+json",
        }),
        new PropertyValue({ name: "size", value: "1234" }),
      ],
    }),
  });
}

/** Sends, then waits until B's queue had the time to process it (a later good claim lands). */
async function settle() {
  const marker = `marker-${++counter}`;
  const sent = await peer.send(`${b.url}/ap/inbox`, claim({ tag: marker, digest: baselineDigest }));
  assert.equal(sent.status, 202);
  await waitFor("B processes a later genuine claim", async () =>
    tags().some((t) => t.tag === marker),
  );
}

/** B's tags without the genuine markers `settle` adds. */
function state() {
  return tags().filter((t) => !t.tag.startsWith("marker-"));
}

before(async () => {
  [a, b, peer] = await Promise.all([startFederated(), startFederated(), startFakePeer()]);
  const created = await flotilla(
    a.dataDir,
    ["user", "add", "alice", "--password-stdin"],
    "password-123\n",
  );
  assert.equal(created.code, 0, created.stderr);
  aDigest = await pushImage(a.url, "alice/app", "1.0");

  // B follows A's repository (A accepts by itself) and the peer's (the peer accepts by hand).
  const aRepo = `${a.url}/ap/repos/alice/app`;
  assert.equal((await api(b, "POST", "/api/v1/admin/follows", { target: aRepo })).status, 201);
  assert.equal(
    (await api(b, "POST", "/api/v1/admin/follows", { target: peer.actorId })).status,
    201,
  );
  const follow = await waitFor("the peer receives B's Follow", async () =>
    peer.received.find((r) => r.type === "Follow"),
  );
  const accepted = await peer.send(
    `${b.url}/ap/inbox`,
    new Accept({
      id: new URL(`${peer.url}/activities/accept`),
      actor: new URL(peer.actorId),
      object: new URL(String(follow.id)),
    }),
  );
  assert.equal(accepted.status, 202);
  await waitFor("both follows accepted", async () => {
    const list = (await (await api(b, "GET", "/api/v1/admin/follows")).json()) as {
      follows: Array<{ state: string }>;
    };
    return list.follows.length === 2 && list.follows.every((f) => f.state === "accepted");
  });
  // A's own claim arrives with its next push; the peer's baseline claim is genuine too.
  await pushImage(a.url, "alice/app", "1.0", "again").then((d) => {
    aDigest = d;
  });
  const baseline = await peer.send(
    `${b.url}/ap/inbox`,
    claim({ id: `${peer.url}/activities/baseline`, tag: "1.0", digest: baselineDigest }),
  );
  assert.equal(baseline.status, 202);
  await waitFor("B records both genuine claims", async () => state().length === 2);
});

after(async () => {
  await Promise.all([a?.dispose(), b?.dispose(), peer?.close()]);
});

test("the genuine claims are recorded (the baseline every forgery is compared with)", () => {
  const expected = [
    { actor_id: `${a.url}/ap/repos/alice/app`, tag: "1.0", digest: aDigest },
    { actor_id: peer.actorId, tag: "1.0", digest: baselineDigest },
  ].sort((x, y) => (x.actor_id < y.actor_id ? -1 : 1));
  assert.deepEqual(state(), expected);
});

test("an unsigned activity is refused with 401 and changes nothing", async () => {
  const before = state();
  const res = await peer.send(`${b.url}/ap/inbox`, claim({ tag: "1.0", digest: digestOf("b") }), {
    as: "none",
  });
  assert.equal(res.status, 401);
  await settle();
  assert.deepEqual(state(), before);
});

test("an activity signed with another actor's key is refused and changes nothing", async () => {
  const before = state();
  // Claims to be the repository actor, signed by eve's (valid, but not the actor's) key.
  const res = await peer.send(`${b.url}/ap/inbox`, claim({ tag: "1.0", digest: digestOf("c") }), {
    as: "eve",
  });
  assert.equal(res.status, 401);
  await settle();
  assert.deepEqual(state(), before);
});

test("an actor on host C claiming A's repository changes nothing", async () => {
  const before = state();
  const aRepo = `${a.url}/ap/repos/alice/app`;
  // The Note says it is A's repository's...
  const attributed = await peer.send(
    `${b.url}/ap/inbox`,
    claim({ tag: "1.0", digest: digestOf("d"), attributedTo: aRepo }),
  );
  assert.equal(attributed.status, 202);
  // ...or is C's own Note, but names A's repository and registry.
  const named = await peer.send(
    `${b.url}/ap/inbox`,
    claim({ tag: "1.0", digest: digestOf("e"), repository: "alice/app", registry: a.url }),
  );
  assert.equal(named.status, 202);
  await settle();
  assert.deepEqual(state(), before);
  assert.match(b.output(), /object attributed to another actor/);
  assert.match(b.output(), /Note names another repository/);
});

test("a Note whose id is on another host changes nothing", async () => {
  const before = state();
  const res = await peer.send(
    `${b.url}/ap/inbox`,
    claim({ tag: "1.0", digest: digestOf("f"), noteId: `${a.url}/ap/notes/forged` }),
  );
  assert.equal(res.status, 202);
  await settle();
  assert.deepEqual(state(), before);
  assert.match(b.output(), /on another host/);
});

test("a replayed activity and an old one change nothing", async () => {
  const before = state();
  // The baseline's id again, now with another digest.
  const replayed = await peer.send(
    `${b.url}/ap/inbox`,
    claim({ id: `${peer.url}/activities/baseline`, tag: "1.0", digest: digestOf("0") }),
  );
  assert.equal(replayed.status, 202);
  // A fresh id, but published three days ago (the window is 48 hours).
  const old = await peer.send(
    `${b.url}/ap/inbox`,
    claim({ tag: "1.0", digest: digestOf("1"), published: Date.now() - 72 * 3600_000 }),
  );
  assert.equal(old.status, 202);
  await settle();
  assert.deepEqual(state(), before);
  assert.match(b.output(), /published too long ago/);
});

test("a blocked domain's deliveries are refused, and unblocking lets them in again", async () => {
  const before = state();
  const blocked = await flotilla(b.dataDir, ["block", peer.host, "--reason", "forgeries"], "", {
    FLOTILLA_PUBLIC_URL: b.url,
  });
  assert.equal(blocked.code, 0, blocked.stderr);
  const listed = await flotilla(b.dataDir, ["blocks", "--json"], "", {
    FLOTILLA_PUBLIC_URL: b.url,
  });
  assert.deepEqual(
    (JSON.parse(listed.stdout) as Array<{ domain: string; reason: string }>).map((r) => [
      r.domain,
      r.reason,
    ]),
    [[peer.host, "forgeries"]],
  );
  // The block is read again within a second by the running instance.
  await waitFor("B refuses the blocked peer", async () => {
    const res = await peer.send(`${b.url}/ap/inbox`, claim({ tag: "1.0", digest: digestOf("9") }));
    return res.status === 403;
  });
  assert.deepEqual(state(), before);
  const unblocked = await flotilla(b.dataDir, ["unblock", peer.host], "", {
    FLOTILLA_PUBLIC_URL: b.url,
  });
  assert.equal(unblocked.code, 0, unblocked.stderr);
  await waitFor("B accepts the peer again", async () => {
    const res = await peer.send(`${b.url}/ap/inbox`, claim({ tag: "2.0", digest: digestOf("8") }));
    return res.status === 202;
  });
  await waitFor("the peer's new claim is recorded", async () =>
    state().some((t) => t.tag === "2.0"),
  );
});

import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import type { InboxContext } from "@fedify/fedify";
import { Create, Delete, Note, PropertyValue, Tombstone } from "@fedify/vocab";
import { handleCreateOrUpdate, handleDelete } from "./claims.ts";
import { admit } from "./inbox.ts";
import { instant } from "./names.ts";
import { federationHarness, type Harness } from "./test-support.ts";

const origin = "https://origin.example";
const repoActor = `${origin}/ap/repos/alice/app`;
const digest = (c: string) => `sha256:${c.repeat(64)}`;
let h: Harness;
let n = 0;

beforeEach(() => {
  h = federationHarness();
  h.core.graph.putFollowing({
    actorId: repoActor,
    kind: "repository",
    label: "origin.example/alice/app",
    inbox: `${origin}/ap/inbox`,
    followId: "https://here.example/ap/activities/f1",
    state: "pending",
    registryUrl: origin,
    name: "alice/app",
  });
  h.core.graph.setFollowingState(repoActor, "accepted");
});

afterEach(() => h.close());

function create(o: { tag: string; digest: string; at?: number; repository?: string }) {
  n++;
  const when = instant(o.at ?? Date.now());
  return new Create({
    id: new URL(`${origin}/ap/activities/${n}`),
    actor: new URL(repoActor),
    published: when,
    object: new Note({
      id: new URL(`${origin}/ap/notes/${o.tag}`),
      attribution: new URL(repoActor),
      published: when,
      attachments: [
        ["repository", o.repository ?? "alice/app"],
        ["registry", origin],
        ["tag", o.tag],
        ["digest", o.digest],
        ["mediaType", "application/vnd.oci.image.manifest.v1+json"],
        ["size", "512"],
        ["cid", "bafkreiabcdefghijklmnop"],
      ].map(([name, value]) => new PropertyValue({ name, value })),
    }),
  });
}

const ctx = () => h.core.context() as unknown as InboxContext<void>;

test("a claim from a followed repository reaches the mirror with its evidence", async () => {
  const activity = create({ tag: "1.0", digest: digest("a") });
  await handleCreateOrUpdate(h.core, ctx(), activity, new URL(repoActor));
  assert.equal(h.mirror.claims.length, 1);
  const claim = h.mirror.claims[0];
  assert.deepEqual(claim?.repository, {
    actorId: repoActor,
    registryUrl: origin,
    name: "alice/app",
  });
  assert.equal(claim?.tag, "1.0");
  assert.equal(claim?.digest, digest("a"));
  assert.equal(claim?.size, 512);
  assert.equal(claim?.cid, "bafkreiabcdefghijklmnop");
  assert.equal(claim?.activityId, activity.id?.href);
  assert.equal(claim?.objectId, `${origin}/ap/notes/1.0`);
  assert.ok(h.mirror.tracked.has(repoActor));
  const known = h.core.graph.knownRemoteRepositories("alice", 10);
  assert.equal(known[0]?.lastDigest, digest("a"));
  assert.equal(known[0]?.followed, true);
});

test("an older claim does not overwrite a newer one", async () => {
  await handleCreateOrUpdate(
    h.core,
    ctx(),
    create({ tag: "1.0", digest: digest("b") }),
    new URL(repoActor),
  );
  const older = create({ tag: "1.0", digest: digest("c"), at: Date.now() - 60_000 });
  await handleCreateOrUpdate(h.core, ctx(), older, new URL(repoActor));
  assert.deepEqual(
    h.mirror.claims.map((c) => c.digest),
    [digest("b")],
  );
});

test("claims from unfollowed actors or naming another repository are refused", async () => {
  h.core.graph.removeFollowing(repoActor);
  await handleCreateOrUpdate(
    h.core,
    ctx(),
    create({ tag: "1.0", digest: digest("d") }),
    new URL(repoActor),
  );
  h.core.graph.putFollowing({
    actorId: repoActor,
    kind: "repository",
    label: "x",
    inbox: `${origin}/ap/inbox`,
    followId: "f",
    state: "accepted",
    registryUrl: origin,
    name: "alice/app",
  });
  // Pending is not enough: only an accepted follow is.
  h.core.graph.setFollowingState(repoActor, "pending");
  await handleCreateOrUpdate(
    h.core,
    ctx(),
    create({ tag: "1.0", digest: digest("e") }),
    new URL(repoActor),
  );
  h.core.graph.setFollowingState(repoActor, "accepted");
  const other = create({ tag: "1.0", digest: digest("f"), repository: "bob/other" });
  await handleCreateOrUpdate(h.core, ctx(), other, new URL(repoActor));
  assert.deepEqual(h.mirror.claims, []);
});

test("a Delete of a claimed Note deletes the tag from the mirror", async () => {
  await handleCreateOrUpdate(
    h.core,
    ctx(),
    create({ tag: "2.0", digest: digest("1") }),
    new URL(repoActor),
  );
  const deletion = new Delete({
    id: new URL(`${origin}/ap/activities/delete-1`),
    actor: new URL(repoActor),
    object: new Tombstone({ id: new URL(`${origin}/ap/notes/2.0`) }),
  });
  await handleDelete(h.core, ctx(), deletion, new URL(repoActor));
  assert.deepEqual(
    h.mirror.deletions.map((d) => [d.tag, d.activityId]),
    [["2.0", deletion.id?.href]],
  );
  // Another actor cannot delete it.
  const forged = new Delete({
    id: new URL("https://evil.example/a/1"),
    actor: new URL("https://evil.example/actor"),
    object: new URL(`${origin}/ap/notes/2.0`),
  });
  await handleDelete(h.core, ctx(), forged, new URL("https://evil.example/actor"));
  assert.equal(h.mirror.deletions.length, 1);
});

test("admission: one host, no replays, nothing too old, nothing from a blocked domain", () => {
  const fresh = create({ tag: "1.0", digest: digest("a") });
  assert.ok(admit(h.core, fresh) instanceof URL);
  assert.match(String(admit(h.core, fresh)), /replay/);
  const crossHost = new Create({
    id: new URL("https://elsewhere.example/a/1"),
    actor: new URL(repoActor),
  });
  assert.match(String(admit(h.core, crossHost)), /different hosts/);
  const old = create({ tag: "1.0", digest: digest("a"), at: Date.now() - 49 * 3600_000 });
  assert.match(String(admit(h.core, old)), /too long ago/);
  const future = create({ tag: "1.0", digest: digest("a"), at: Date.now() + 2 * 3600_000 });
  assert.match(String(admit(h.core, future)), /future/);
  const local = new Create({
    id: new URL("https://here.example/ap/activities/x"),
    actor: new URL("https://here.example/ap/instance"),
  });
  assert.match(String(admit(h.core, local)), /from here/);
  h.core.graph.block("origin.example");
  assert.match(String(admit(h.core, create({ tag: "1.0", digest: digest("a") }))), /blocked/);
});

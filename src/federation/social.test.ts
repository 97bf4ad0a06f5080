import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { federationHarness, type Harness } from "./test-support.ts";
import { SocialError } from "./types.ts";

let h: Harness;

beforeEach(async () => {
  h = federationHarness();
  await h.accounts.createUser({ name: "alice", passwordHash: "x", admin: false });
  await h.accounts.createUser({ name: "bob", passwordHash: "x", admin: false });
  await h.meta.ensureRepository("alice/app");
  await h.meta.ensureRepository("alice/secret");
  h.privateRepositories.add("alice/secret");
});

afterEach(() => h.close());

test("handles and actor URLs", () => {
  assert.equal(h.social.handleOf("alice"), "@alice@here.example");
  assert.equal(h.social.actorUrlOf("alice/app/sub"), "https://here.example/ap/repos/alice/app/sub");
});

test("stars and boosts of a local repository are counted, once each", async () => {
  await h.social.star("bob", "alice/app");
  await h.social.star("bob", "alice/app");
  await h.social.star("alice", "https://here.example/ap/repos/alice/app");
  assert.equal(await h.social.isStarred("bob", "alice/app"), true);
  await h.social.boost("instance", "alice/app");
  assert.deepEqual(await h.social.counts("alice/app"), { stars: 2, boosts: 1, followers: 0 });
  assert.deepEqual(
    (await h.social.boosts()).map((b) => [b.by, b.label]),
    [["instance", "alice/app"]],
  );
  assert.equal(h.core.social.outboxCount("instance"), 1, "the Announce is in the outbox");
  await h.social.unstar("bob", "alice/app");
  await h.social.unboost("instance", "alice/app");
  assert.deepEqual(await h.social.counts("alice/app"), { stars: 1, boosts: 0, followers: 0 });
  assert.equal(h.core.social.outboxCount("instance"), 0);
});

test("counts and isStarred never fetch and work for private repositories too", async () => {
  h.core.social.addStar(h.social.actorUrlOf("alice/secret"), "bob", "local");
  assert.deepEqual(await h.social.counts("alice/secret"), { stars: 1, boosts: 0, followers: 0 });
  assert.equal(await h.social.isStarred("bob", "alice/secret"), true);
  // A remote repository nobody here has seen: zero, without asking its origin.
  assert.deepEqual(await h.social.counts("https://elsewhere.example/ap/repos/x/y"), {
    stars: 0,
    boosts: 0,
    followers: 0,
  });
});

test("mistakes come back as SocialError with a stable code", async () => {
  const code = async (work: Promise<unknown>) => {
    try {
      await work;
      return "none";
    } catch (error) {
      assert.ok(error instanceof SocialError, String(error));
      return error.code;
    }
  };
  assert.equal(await code(h.social.star("bob", "alice/missing")), "not-found");
  assert.equal(await code(h.social.star("bob", "alice/secret")), "private");
  assert.equal(await code(h.social.star("nobody", "alice/app")), "not-found");
  assert.equal(await code(h.social.star("bob", "alice")), "unsupported");
  assert.equal(await code(h.social.star("bob", "Not A Name/x")), "invalid");
  assert.equal(await code(h.social.follow("alice/app")), "invalid");
  assert.equal(await code(h.social.report("bob", "alice/app", "  ")), "invalid");
  assert.equal(await code(h.social.blockDomain("not a domain")), "invalid");
});

test("reports land in the administrators' queue until resolved", async () => {
  const id = await h.social.report("bob", "alice/app", "malware in the image");
  const open = await h.social.reports();
  assert.deepEqual(
    open.map((r) => [r.id, r.reporter, r.origin, r.label, r.text]),
    [[id, "bob", "local", "alice/app", "malware in the image"]],
  );
  assert.equal(await h.social.resolveReport(id), true);
  assert.equal(await h.social.resolveReport(id), false);
  assert.deepEqual(await h.social.reports(), []);
  assert.equal((await h.social.reports({ includeResolved: true })).length, 1);
});

test("blocking a domain drops its waiting deliveries and refuses its actors", async () => {
  await h.queue.enqueue({ type: "outbox", inbox: "https://evil.example/inbox" });
  await h.queue.enqueue({ type: "outbox", inbox: "https://fine.example/inbox" });
  await h.social.blockDomain("Evil.Example", "spam");
  assert.deepEqual(
    (await h.social.blockedDomains()).map((b) => [b.domain, b.reason]),
    [["evil.example", "spam"]],
  );
  assert.equal((await h.queue.getDepth()).queued, 1);
  // New deliveries to it are not even stored.
  await h.queue.enqueue({ type: "outbox", inbox: "https://a.evil.example/inbox" });
  assert.equal((await h.queue.getDepth()).queued, 1);
  await assert.rejects(h.social.follow("https://evil.example/ap/repos/x/y"), { code: "blocked" });
  assert.equal(await h.social.unblockDomain("evil.example"), true);
  assert.deepEqual(await h.social.blockedDomains(), []);
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SqliteAccountStore, SqliteDatabase } from "../meta/index.ts";
import { AccountError, AccountService } from "./accounts.ts";
import { LoginLimiter } from "./login-limiter.ts";
import { hashPassword, verifyPassword } from "./passwords.ts";
import { AccessPolicy } from "./policy.ts";

function service(limiter?: LoginLimiter) {
  const store = new SqliteAccountStore(new SqliteDatabase(":memory:"));
  return new AccountService(store, { refreshTokenDays: 30, limiter });
}

describe("passwords", () => {
  it("hash with a salt and verify only the right password", async () => {
    const a = await hashPassword("correct horse");
    const b = await hashPassword("correct horse");
    assert.notEqual(a, b, "salted");
    assert.match(a, /^scrypt\$32768\$8\$1\$/);
    assert.equal(await verifyPassword("correct horse", a), true);
    assert.equal(await verifyPassword("correct hors", a), false);
    assert.equal(await verifyPassword("x", "garbage"), false);
  });
});

describe("AccountService", () => {
  it("creates users with their namespace and refuses taken or invalid names and short passwords", async () => {
    const accounts = service();
    await accounts.createUser("alice", "password-1");
    assert.equal((await accounts.store.getNamespace("alice"))?.kind, "user");
    await assert.rejects(accounts.createUser("alice", "password-1"), AccountError);
    await assert.rejects(accounts.createOrg("alice"), /taken/);
    await assert.rejects(accounts.createUser("Alice", "password-1"), /NAME_INVALID|name/);
    await assert.rejects(accounts.createUser("bob", "short"), /at least 8/);
  });

  it("authenticates with the password or a personal access token, never with another user's token", async () => {
    const accounts = service();
    await accounts.createUser("alice", "password-1");
    await accounts.createUser("bob", "password-2");
    const ok = await accounts.authenticate("alice", "password-1", "1.2.3.4");
    assert.deepEqual(ok, { ok: true, principal: { user: "alice", admin: false } });
    assert.equal((await accounts.authenticate("alice", "password-2", "1.2.3.4")).ok, false);
    assert.equal((await accounts.authenticate("nobody", "password-1", "1.2.3.4")).ok, false);

    const token = await accounts.createToken("alice", { name: "ci", scope: "pull" });
    assert.match(token.value, /^flt_/);
    const viaToken = await accounts.authenticate("alice", token.value, "1.2.3.4");
    assert.ok(
      viaToken.ok && viaToken.principal.scope === "pull" && viaToken.principal.tokenId === token.id,
    );
    assert.equal((await accounts.authenticate("bob", token.value, "1.2.3.4")).ok, false);

    const listed = await accounts.listTokens("alice");
    assert.equal(listed.length, 1);
    assert.equal("secretHash" in (listed[0] as object), false, "secrets never leave the store");
    assert.ok(listed[0]?.lastUsedAt);

    await accounts.revokeToken(token.id);
    assert.equal((await accounts.authenticate("alice", token.value, "1.2.3.4")).ok, false);
    assert.equal(
      await accounts.current("alice", token.id),
      undefined,
      "a revoked token stops working at once",
    );
  });

  it("expires tokens and re-checks users on every request", async () => {
    const accounts = service();
    await accounts.createUser("alice", "password-1");
    const token = await accounts.createToken("alice", {
      name: "old",
      scope: "push",
      expiresInDays: 1,
    });
    await accounts.store.createToken({
      id: "expiredtoken",
      user: "alice",
      kind: "personal",
      name: "x",
      scope: "push",
      secretHash: "00",
      createdAt: 0,
      expiresAt: 1,
    });
    assert.equal(await accounts.current("alice", "expiredtoken"), undefined);
    assert.deepEqual(await accounts.current("alice", token.id), {
      user: "alice",
      admin: false,
      tokenId: token.id,
      scope: "push",
    });
    await accounts.removeNamespace("alice");
    assert.equal(await accounts.current("alice", undefined), undefined);
  });

  it("issues and redeems refresh tokens", async () => {
    const accounts = service();
    await accounts.createUser("alice", "password-1");
    const refresh = await accounts.createRefreshToken({ user: "alice", admin: false }, "docker");
    assert.ok(refresh);
    assert.equal((await accounts.redeemRefreshToken(refresh))?.user, "alice");
    assert.equal(await accounts.redeemRefreshToken(`${refresh}x`), undefined);
    assert.equal(
      await accounts.createRefreshToken({ admin: false }, "docker"),
      undefined,
      "anonymous gets none",
    );
  });

  it("slows and then refuses repeated failures per account and per address", async () => {
    const limiter = new LoginLimiter({ maxPerAccount: 3, maxPerAddress: 5, windowMs: 60_000 });
    const accounts = service(limiter);
    await accounts.createUser("alice", "password-1");
    for (let i = 0; i < 3; i++)
      assert.equal((await accounts.authenticate("alice", "wrong-pass", "9.9.9.9")).ok, false);
    const blocked = await accounts.authenticate("alice", "password-1", "8.8.8.8");
    assert.deepEqual(
      blocked.ok ? "ok" : blocked.reason,
      "rate-limited",
      "even the right password waits",
    );
    const gate = limiter.check("someone", "1.1.1.1");
    assert.equal(gate.allowed, true);
    for (let i = 0; i < 5; i++) limiter.fail(`name-${i}`, "7.7.7.7");
    assert.equal(
      limiter.check("fresh", "7.7.7.7").allowed,
      false,
      "an address spraying names is refused",
    );
    const slowed = new LoginLimiter({ maxPerAccount: 10 });
    for (let i = 0; i < 4; i++) slowed.fail("x", "y");
    assert.ok(slowed.check("x", "z").delayMs >= 250, "failures slow later attempts");
  });
});

describe("AccessPolicy", () => {
  it("gives owners everything, readers pull, outsiders pull on public repositories that exist", async () => {
    const accounts = service();
    const policy = new AccessPolicy(accounts.store);
    await accounts.createUser("alice", "password-1");
    await accounts.createUser("bob", "password-2");
    await accounts.createUser("root", "password-3", { admin: true });
    await accounts.createOrg("team", "alice");
    await accounts.setMember("team", "bob", "reader");
    await accounts.store.setRepositoryVisibility("team/app", null);
    await accounts.store.setRepositoryVisibility("team/secret", "private");
    const actions = async (user: string | undefined, repo: string, admin = false) =>
      [...(await policy.actions({ user, admin }, repo))].sort().join(",");
    assert.equal(await actions("alice", "team/secret"), "delete,pull,push");
    assert.equal(await actions("bob", "team/secret"), "pull");
    assert.equal(await actions(undefined, "team/secret"), "");
    assert.equal(await actions(undefined, "team/app"), "pull");
    assert.equal(await actions(undefined, "team/missing"), "", "missing looks like private");
    assert.equal(await actions("bob", "alice/new"), "");
    assert.equal(await actions("alice", "alice/new"), "delete,pull,push");
    assert.equal(await actions("root", "anything/new", true), "delete,pull,push");
    assert.equal(await actions("bob", "team/app"), "pull");
    await accounts.setNamespaceVisibility("team", "private");
    assert.equal(await actions(undefined, "team/app"), "", "namespace default applies");
    const capped = await policy.actions(
      { user: "alice", admin: false, scope: "pull" },
      "team/secret",
    );
    assert.deepEqual([...capped], ["pull"], "a pull token caps the owner");
    assert.equal(await policy.canAdminister({ user: "alice", admin: false }, "team"), true);
    assert.equal(await policy.canAdminister({ user: "bob", admin: false }, "team"), false);
  });
});

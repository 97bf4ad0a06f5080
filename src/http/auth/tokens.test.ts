/** The token endpoint and hostile tokens: expired, tampered, foreign, `alg: none`, wrong audience. */
import assert from "node:assert/strict";
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { before, describe, it } from "node:test";
import { SignJWT } from "jose";
import { LoginLimiter } from "../../accounts/index.ts";
import { type AuthFixture, authFixture, issuer, passwords, service } from "./test-fixture.ts";

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
const pull = [{ type: "repository", name: "alice/app", actions: ["pull"] }];

describe("token authentication", () => {
  let f: AuthFixture;
  before(async () => {
    f = await authFixture({
      limiter: new LoginLimiter({ maxPerAccount: 5, maxPerAddress: 100, windowMs: 60_000 }),
    });
    await f.seed("alice/app", "latest");
    await f.seed("alice/other", "latest");
    await f.accounts.setNamespaceVisibility("alice", "private");
  });

  const sign = (
    claims: Record<string, unknown>,
    options: {
      key?: ReturnType<typeof createPrivateKey>;
      aud?: string;
      iss?: string;
      exp?: number;
    } = {},
  ) =>
    new SignJWT({ access: pull, ...claims })
      .setProtectedHeader({ alg: "EdDSA" })
      .setIssuer(options.iss ?? issuer)
      .setAudience(options.aud ?? service)
      .setSubject("alice")
      .setIssuedAt()
      .setExpirationTime(options.exp ?? Math.floor(Date.now() / 1000) + 60)
      .sign(options.key ?? createPrivateKey(readFileSync(f.keyFile)));

  it("challenges requests without a token with the realm, service and scope", async () => {
    const res = await f.request("/v2/", undefined);
    assert.equal(res.status, 401);
    assert.equal(
      res.headers.get("www-authenticate"),
      `Bearer realm="${issuer}/token",service="${service}"`,
    );
    const push = await f.request("/v2/alice/app/blobs/uploads/", undefined, { method: "POST" });
    assert.equal(
      push.headers.get("www-authenticate"),
      `Bearer realm="${issuer}/token",service="${service}",scope="repository:alice/app:pull,push"`,
    );
    assert.equal(
      ((await push.json()) as { errors: Array<{ code: string }> }).errors[0]?.code,
      "UNAUTHORIZED",
    );
  });

  it("grants the intersection of what was asked and what is allowed", async () => {
    const token = await f.token("olga", ["repository:alice/app:pull,push"]);
    const payload = JSON.parse(Buffer.from(token.split(".")[1] as string, "base64url").toString());
    assert.deepEqual(payload.access, [{ type: "repository", name: "alice/app", actions: [] }]);
    assert.equal(payload.aud, service);
    assert.equal(payload.iss, issuer);
    assert.ok(payload.exp - payload.iat <= 300);
    const mine = await f.token("alice", ["repository:alice/app:pull,push,delete"]);
    const granted = JSON.parse(Buffer.from(mine.split(".")[1] as string, "base64url").toString());
    assert.deepEqual(granted.access[0].actions, ["pull", "push", "delete"]);
  });

  it("rejects expired, tampered, foreign, wrong-audience, wrong-issuer and unsigned tokens", async () => {
    const good = await sign({});
    assert.equal((await f.request("/v2/alice/app/manifests/latest", good)).status, 200, "control");
    const [header, , signature] = good.split(".");
    const widened = b64({
      sub: "alice",
      iss: issuer,
      aud: service,
      exp: Math.floor(Date.now() / 1000) + 60,
      access: [{ type: "repository", name: "alice/other", actions: ["pull", "push", "delete"] }],
    });
    const foreign = generateKeyPairSync("ed25519").privateKey;
    const bad = {
      expired: await sign({}, { exp: Math.floor(Date.now() / 1000) - 600 }),
      tampered: `${header}.${widened}.${signature}`,
      foreignKey: await sign({}, { key: foreign }),
      wrongAudience: await sign({}, { aud: "other.example" }),
      wrongIssuer: await sign({}, { iss: "http://evil.example" }),
      algNone: `${b64({ alg: "none", typ: "JWT" })}.${widened}.`,
      garbage: "not.a.jwt",
    };
    for (const [name, token] of Object.entries(bad)) {
      const res = await f.request("/v2/alice/app/manifests/latest", token);
      assert.equal(res.status, 401, name);
      assert.match(res.headers.get("www-authenticate") ?? "", /error="invalid_token"/, name);
    }
  });

  it("never lets a token for one repository open another", async () => {
    const token = await f.token("alice", ["repository:alice/app:pull"]);
    assert.equal((await f.request("/v2/alice/app/manifests/latest", token)).status, 200);
    const other = await f.request("/v2/alice/other/manifests/latest", token);
    assert.equal(other.status, 401);
    assert.match(other.headers.get("www-authenticate") ?? "", /error="insufficient_scope"/);
    const pushWithPull = await f.request("/v2/alice/app/blobs/uploads/", token, { method: "POST" });
    assert.equal(pushWithPull.status, 401);
  });

  it("stops a token at once when its personal access token is revoked", async () => {
    const pat = await f.accounts.createToken("alice", { name: "ci", scope: "pull" });
    const token = await f.token("alice", ["repository:alice/app:pull,push"], pat.value);
    assert.equal((await f.request("/v2/alice/app/manifests/latest", token)).status, 200);
    const push = await f.request("/v2/alice/app/blobs/uploads/", token, { method: "POST" });
    assert.equal(push.status, 401, "a pull token cannot push, whatever the user may do");
    await f.accounts.revokeToken(pat.id);
    assert.equal((await f.request("/v2/alice/app/manifests/latest", token)).status, 401);
  });

  it("answers wrong passwords with 401, then 429 with Retry-After", async () => {
    const attempt = () =>
      f.app.request("/token?service=x", {
        headers: { Authorization: `Basic ${Buffer.from("mia:wrong-password").toString("base64")}` },
      });
    assert.equal((await attempt()).status, 401);
    let last = 0;
    for (let i = 0; i < 6 && last !== 429; i++) last = (await attempt()).status;
    assert.equal(last, 429);
    const limited = await attempt();
    assert.ok(Number(limited.headers.get("retry-after")) > 0);
  });

  it("speaks the OAuth2 form: password grant with a refresh token, then the refresh grant", async () => {
    const form = new URLSearchParams({
      grant_type: "password",
      username: "rita",
      password: passwords.rita as string,
      service,
      scope: "repository:team/x:pull",
      client_id: "test",
      access_type: "offline",
    });
    const res = await f.app.request("/token", {
      method: "POST",
      body: form,
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      access_token: string;
      refresh_token: string;
      expires_in: number;
    };
    assert.ok(body.access_token && body.refresh_token && body.expires_in > 0);
    const refreshed = await f.app.request("/token", {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: body.refresh_token,
        service,
        scope: "repository:team/x:pull",
      }),
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    assert.equal(refreshed.status, 200);
    assert.equal(
      ((await refreshed.json()) as { refresh_token: string }).refresh_token,
      body.refresh_token,
    );
    const wrong = await f.app.request("/token", {
      method: "POST",
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: "flr_bogus" }),
    });
    assert.equal(wrong.status, 401);
    const unknownGrant = await f.app.request("/token", {
      method: "POST",
      body: new URLSearchParams({ grant_type: "magic" }),
    });
    assert.equal(unknownGrant.status, 400);
  });

  it("keeps passwords and tokens out of the logs", async () => {
    const token = await f.token("alice", ["repository:alice/app:pull"]);
    await f.request("/v2/alice/app/manifests/latest", token);
    const logs = f.logs();
    assert.ok(logs.includes('"category":"http"'), "requests were logged");
    for (const secret of [...Object.values(passwords), token, token.split(".")[2] as string]) {
      assert.equal(logs.includes(secret), false, "a secret reached the logs");
    }
  });
});

/** Session cookies and CSRF tokens: forged, expired and foreign values are refused; platforms parse. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { tempDir } from "../http/test-support.ts";
import { platformName } from "../registry/index.ts";
import { loadSessionKey, SessionSigner } from "./session.ts";

describe("sessions", () => {
  const signer = new SessionSigner(randomBytes(32), { hours: 1 });

  it("reads back what it signed, until it expires", () => {
    const now = Date.now();
    const { session, value } = signer.create("alice", now);
    assert.deepEqual(signer.read(value, now + 1000), session);
    assert.equal(signer.read(value, now + 3600_000 + 1), undefined);
  });

  it("refuses tampered, foreign and malformed cookies", () => {
    const { value } = signer.create("alice");
    const [payload, mac] = value.split(".") as [string, string];
    const forged = Buffer.from(JSON.stringify(["root", "x", Date.now() + 3600_000])).toString(
      "base64url",
    );
    assert.equal(signer.read(`${forged}.${mac}`), undefined);
    assert.equal(signer.read(`${payload}.${mac.slice(1)}`), undefined);
    const other = new SessionSigner(randomBytes(32), { hours: 1 });
    assert.equal(other.read(value), undefined);
    for (const bad of ["", ".", "abc", `${payload}.`, "x".repeat(5000), "e30.e30"])
      assert.equal(signer.read(bad), undefined, bad);
  });

  it("binds CSRF tokens to one session and login tokens to one nonce", () => {
    const a = signer.create("alice").session;
    const b = signer.create("alice").session;
    assert.equal(signer.checkCsrf(a, signer.csrf(a)), true);
    assert.equal(signer.checkCsrf(a, signer.csrf(b)), false);
    assert.equal(signer.checkCsrf(a, undefined), false);
    assert.equal(signer.checkLoginToken("n1", signer.loginToken("n1")), true);
    assert.equal(signer.checkLoginToken("n2", signer.loginToken("n1")), false);
    assert.equal(signer.checkLoginToken(undefined, signer.loginToken("")), false);
  });

  it("keeps its key in a file only the owner may read, and reuses it", async () => {
    const file = join(await tempDir("flotilla-session-"), "keys", "web-session.key");
    const key = loadSessionKey(file);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(loadSessionKey(file), key);
  });
});

describe("platform names", () => {
  it("joins os, architecture and variant, and skips attestations and junk", () => {
    assert.equal(
      platformName({ os: "linux", architecture: "arm64", variant: "v8" }),
      "linux/arm64/v8",
    );
    assert.equal(platformName({ os: "linux", architecture: "amd64" }), "linux/amd64");
    assert.equal(platformName({ os: "unknown", architecture: "unknown" }), undefined);
    assert.equal(platformName({ os: 5, architecture: "amd64" }), undefined);
    assert.equal(platformName({ os: "linux", architecture: "x".repeat(200) }), undefined);
  });
});

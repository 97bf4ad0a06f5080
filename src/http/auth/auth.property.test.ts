/**
 * Property tests for everything a client can put into authentication: scope strings, bearer
 * tokens (garbage and forged JWTs), Basic headers, and the /token query and form. Every answer is
 * well-formed and nothing forged is ever accepted.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import fc from "fast-check";
import { LoginLimiter } from "../../accounts/index.ts";
import { checkName } from "../../registry/index.ts";
import { buildable, illFormed } from "../property-support.ts";
import { parseScopes } from "./scopes.ts";
import { type AuthFixture, authFixture, issuer, service } from "./test-fixture.ts";
import { TokenSigner } from "./token-signer.ts";

const runs = { seed: 20261204, numRuns: 150 };
const b64url = (value: unknown) =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/** JWT-shaped tokens: real-looking headers and claims with a signature that cannot be right. */
const forgedJwt = fc
  .tuple(
    fc.constantFrom("none", "HS256", "EdDSA", "RS256", "ES256"),
    fc.record({
      sub: fc.constantFrom("root", "alice", ""),
      access: fc.constant([{ type: "repository", name: "team/app", actions: ["*"] }]),
      iss: fc.constantFrom(issuer, "http://evil"),
      aud: fc.constantFrom(service, "x"),
      exp: fc.integer({ min: 0, max: 2 ** 40 }),
    }),
    fc.uint8Array({ maxLength: 64 }),
  )
  .map(
    ([alg, claims, signature]) =>
      `${b64url({ alg, typ: "JWT" })}.${b64url(claims)}.${Buffer.from(signature).toString("base64url")}`,
  );
const garbage = fc.string({ unit: "binary", maxLength: 200 });
const authorization = fc.oneof(
  forgedJwt.map((t) => `Bearer ${t}`),
  garbage.map((g) => `Bearer ${g}`),
  fc
    .tuple(fc.constantFrom("alice", "root", "nobody", ""), garbage)
    .map(([u, p]) => `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`),
  garbage.map((g) => `Basic ${g}`),
  fc.string({ unit: "binary-ascii", maxLength: 100 }),
);
const scope = fc.oneof(
  fc
    .tuple(
      fc.constantFrom("repository", "registry", "repository(plugin)", "x"),
      fc.oneof(fc.constantFrom("team/app", "alice/app", "catalog", "Bad"), garbage),
      fc.constantFrom("pull", "push", "pull,push", "*", "", ",,"),
    )
    .map((parts) => parts.join(":")),
  garbage,
);

describe("scopes (property)", () => {
  it("parseScopes never throws, keeps at most 32, and only valid repository names", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            scope,
            fc.array(scope, { maxLength: 40 }).map((s) => s.join(" ")),
          ),
          { maxLength: 5 },
        ),
        (values) => {
          const scopes = parseScopes(values);
          assert.ok(scopes.length <= 32);
          for (const s of scopes) {
            assert.ok(s.type === "repository" || (s.type === "registry" && s.name === "catalog"));
            if (s.type === "repository") checkName(s.name);
          }
        },
      ),
      runs,
    );
  });
});

describe("bearer tokens (property)", () => {
  it("verify never throws and accepts no forged or garbage token", async () => {
    const { keyFile } = await authFixture();
    const signer = new TokenSigner({ issuer, audience: service, ttlSeconds: 300, keyFile });
    await fc.assert(
      fc.asyncProperty(fc.oneof(forgedJwt, garbage), async (token) => {
        const result = await signer.verify(token);
        assert.equal(result.ok, false);
      }),
      runs,
    );
  });
});

describe("the token endpoint and /v2/ under any credentials (property)", () => {
  let fixture: AuthFixture;
  before(async () => {
    // A window of a millisecond: failures never add up to delays (the limiter has its own tests).
    fixture = await authFixture({ limiter: new LoginLimiter({ windowMs: 1 }) });
    await fixture.seed("team/app", "latest");
  });

  it("GET /token: a token or a well-formed refusal", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.option(authorization, { nil: undefined }),
        fc.array(scope, { maxLength: 4 }),
        fc.option(fc.constantFrom("true", "false", "1"), { nil: undefined }),
        async (auth, scopes, offline) => {
          const query = new URLSearchParams([
            ["service", service],
            ...scopes.map((s): [string, string] => ["scope", s]),
            ...(offline ? [["offline_token", offline] as [string, string]] : []),
          ]);
          const init: RequestInit = { headers: auth === undefined ? {} : { Authorization: auth } };
          fc.pre(buildable("/", init));
          const path = `/token?${query}`;
          assert.equal(await illFormed(fixture.app, path, init), undefined, `${auth} ${path}`);
          const res = await fixture.app.request(path, init);
          assert.ok([200, 401, 429].includes(res.status), `${res.status} for ${auth}`);
        },
      ),
      runs,
    );
  });

  it("POST /token: any form gets a token or a well-formed refusal", async () => {
    const field = fc.oneof(
      fc.constantFrom(
        "password",
        "refresh_token",
        "client_credentials",
        "alice",
        "alice-password",
        "offline",
      ),
      garbage,
    );
    const form = fc.dictionary(
      fc.constantFrom(
        "grant_type",
        "username",
        "password",
        "refresh_token",
        "scope",
        "client_id",
        "access_type",
        "service",
      ),
      field,
      { maxKeys: 6 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          form.map((f) => new URLSearchParams(f).toString()),
          garbage,
        ),
        async (body) => {
          const init: RequestInit = {
            method: "POST",
            body,
            headers: { "Content-Type": "application/x-www-form-urlencoded" },
          };
          assert.equal(await illFormed(fixture.app, "/token", init), undefined, body);
        },
      ),
      runs,
    );
  });

  it("/v2/ with any forged credentials never grants a write or a private read", async () => {
    const request = fc.constantFrom(
      ["GET", "/v2/"],
      ["GET", "/v2/_catalog"],
      ["POST", "/v2/team/app/blobs/uploads/"],
      ["PUT", "/v2/team/app/manifests/latest"],
      ["DELETE", "/v2/team/app/manifests/latest"],
      ["GET", "/v2/team/app/tags/list"],
    );
    await fc.assert(
      fc.asyncProperty(authorization, request, async (auth, [method, path]) => {
        const init: RequestInit = {
          method,
          headers: { Authorization: auth },
          ...(method === "PUT" ? { body: "{}" } : {}),
        };
        fc.pre(buildable("/", init));
        assert.equal(await illFormed(fixture.app, path, init), undefined);
        const res = await fixture.app.request(path, init);
        assert.equal(res.status, 401, `${method} ${path} with ${auth}`);
        assert.match(res.headers.get("WWW-Authenticate") ?? "", /^Bearer realm=/);
      }),
      runs,
    );
  });
});

/** The JSON API: credentials, CSRF for sessions, bad input as OCI errors, social actions, OpenAPI. */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { pushImage } from "../http/test-support.ts";
import { type WebFixture, webFixture } from "./test-fixture.ts";

async function expectCode(res: Response | Promise<Response>, status: number, code: string) {
  const response = await res;
  const text = await response.text();
  assert.equal(response.status, status, text);
  const body = JSON.parse(text) as {
    errors: Array<{ code: string; detail: { requestId: string } }>;
  };
  assert.equal(body.errors[0]?.code, code, text);
  assert.ok(body.errors[0]?.detail.requestId, "errors carry the request id");
}

const json = (
  method: string,
  body: unknown,
  headers: Record<string, string> = {},
): RequestInit => ({
  method,
  body: typeof body === "string" ? body : JSON.stringify(body),
  headers: { "Content-Type": "application/json", ...headers },
});

describe("JSON API", () => {
  let f: WebFixture;
  let alice: Record<string, string>;

  before(async () => {
    f = await webFixture({ social: true });
    await f.accounts.createUser("alice", "alice-password");
    await f.accounts.createUser("root", "root-password", { admin: true });
    alice = f.basic("alice", "alice-password");
    await pushImage(f.app, "alice/app", { tag: "1.0", layerContent: "x" });
  });

  it("serves an OpenAPI document naming every route", async () => {
    const doc = (await (await f.app.request("/api/v1/openapi.json")).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    assert.equal(doc.openapi, "3.1.0");
    for (const path of ["/api/v1/search", "/api/v1/tokens", "/api/v1/repositories/{name}"])
      assert.ok(doc.paths[path], path);
  });

  it("creates, lists and revokes tokens with basic credentials", async () => {
    const res = await f.app.request(
      "/api/v1/tokens",
      json("POST", { name: "ci", scope: "push", expiresInDays: 30 }, alice),
    );
    assert.equal(res.status, 201);
    const created = (await res.json()) as { id: string; token: string; expiresAt: number };
    assert.match(created.token, /^flt_/);
    const listed = (await (await f.app.request("/api/v1/tokens", { headers: alice })).json()) as {
      tokens: Array<{ id: string; secretHash?: string }>;
    };
    assert.deepEqual(
      listed.tokens.map((t) => t.id),
      [created.id],
    );
    assert.equal(listed.tokens[0]?.secretHash, undefined, "no secret hashes");
    // The token works as credentials for the API too, and a push token cannot mint tokens.
    const withToken = f.basic("alice", created.token);
    assert.equal(
      (
        (await (await f.app.request("/api/v1/me", { headers: withToken })).json()) as {
          scope: string;
        }
      ).scope,
      "push",
    );
    await expectCode(
      f.app.request("/api/v1/tokens", json("POST", { name: "x" }, withToken)),
      403,
      "DENIED",
    );
    assert.equal(
      (await f.app.request(`/api/v1/tokens/${created.id}`, { method: "DELETE", headers: alice }))
        .status,
      204,
    );
    const after = (await (await f.app.request("/api/v1/tokens", { headers: alice })).json()) as {
      tokens: unknown[];
    };
    assert.deepEqual(after.tokens, []);
    assert.equal((await f.app.request("/api/v1/me", { headers: withToken })).status, 401);
    await expectCode(
      f.app.request("/api/v1/tokens/nope", { method: "DELETE", headers: alice }),
      404,
      "NAME_UNKNOWN",
    );
  });

  it("answers bad input with OCI errors, never 500", async () => {
    await expectCode(
      f.app.request("/api/v1/tokens", json("POST", "{not json", alice)),
      400,
      "UNSUPPORTED",
    );
    await expectCode(
      f.app.request("/api/v1/tokens", json("POST", [1, 2], alice)),
      400,
      "UNSUPPORTED",
    );
    await expectCode(
      f.app.request("/api/v1/tokens", json("POST", { name: "x", scope: "root" }, alice)),
      400,
      "UNSUPPORTED",
    );
    await expectCode(
      f.app.request("/api/v1/tokens", json("POST", { name: 5 }, alice)),
      400,
      "UNSUPPORTED",
    );
    await expectCode(
      f.app.request("/api/v1/tokens", json("POST", { name: "x", expiresInDays: "soon" }, alice)),
      400,
      "UNSUPPORTED",
    );
    await expectCode(
      f.app.request("/api/v1/tokens", json("POST", { name: "" }, alice)),
      400,
      "NAME_INVALID",
    );
    await expectCode(
      f.app.request("/api/v1/tokens", json("POST", { name: "x" })),
      401,
      "UNAUTHORIZED",
    );
    await expectCode(f.app.request("/api/v1/repositories/Alice/App"), 400, "NAME_INVALID");
    await expectCode(f.app.request("/api/v1/repositories/alice/missing"), 404, "NAME_UNKNOWN");
    await expectCode(
      f.app.request("/api/v1/repositories/alice/app/-/manifests/nope"),
      404,
      "MANIFEST_UNKNOWN",
    );
    await expectCode(
      f.app.request(
        "/api/v1/repositories/alice/app",
        json("PATCH", { visibility: "secret" }, alice),
      ),
      400,
      "UNSUPPORTED",
    );
    await expectCode(
      f.app.request("/api/v1/search", { headers: { Authorization: "Basic !!!" } }),
      401,
      "UNAUTHORIZED",
    );
  });

  it("changes a repository's description for its owner only", async () => {
    const res = await f.app.request(
      "/api/v1/repositories/alice/app",
      json("PATCH", { description: "Hello", readme: "# Hi" }, alice),
    );
    assert.equal(res.status, 200);
    const detail = (await (await f.app.request("/api/v1/repositories/alice/app")).json()) as {
      description: string;
      readmeHtml: string;
      tags: Array<{ name: string; digest: string; size: number; platforms: string[] }>;
      pull: { tag: string; digest: string };
    };
    assert.equal(detail.description, "Hello");
    assert.equal(detail.readmeHtml.trim(), "<h1>Hi</h1>");
    assert.equal(detail.tags[0]?.name, "1.0");
    assert.deepEqual(detail.tags[0]?.platforms, ["linux/amd64"]);
    assert.ok((detail.tags[0]?.size ?? 0) > 100, "size includes config and layers");
    assert.equal(detail.pull.tag, "registry.test/alice/app:1.0");
    await expectCode(
      f.app.request("/api/v1/repositories/alice/app", json("PATCH", { description: "x" })),
      401,
      "UNAUTHORIZED",
    );
    const manifest = (await (
      await f.app.request(`/api/v1/repositories/alice/app/-/manifests/1.0`)
    ).json()) as {
      layers: unknown[];
      config: { mediaType: string };
    };
    assert.equal(manifest.layers.length, 1);
    assert.equal(manifest.config.mediaType, "application/vnd.oci.image.config.v1+json");
  });

  it("requires the CSRF header for writes made with a session cookie", async () => {
    const { value, session } = f.web.services.signer.create("alice");
    const cookie = { Cookie: `flotilla_session=${value}` };
    await expectCode(
      f.app.request("/api/v1/repositories/alice/app/-/star", { method: "PUT", headers: cookie }),
      403,
      "DENIED",
    );
    const csrf = f.web.services.signer.csrf(session);
    const ok = await f.app.request("/api/v1/repositories/alice/app/-/star", {
      method: "PUT",
      headers: { ...cookie, "X-CSRF-Token": csrf },
    });
    assert.equal(ok.status, 204);
    assert.equal(await f.social?.isStarred("alice", "alice/app"), true);
  });

  it("follows by handle, maps federation's refusals, and keeps admin routes for admins", async () => {
    const res = await f.app.request(
      "/api/v1/me/follows",
      json("POST", { target: "@zed@remote.example" }, alice),
    );
    assert.equal(res.status, 201);
    await expectCode(
      f.app.request("/api/v1/me/follows", json("POST", { target: "zed" }, alice)),
      400,
      "NAME_INVALID",
    );
    await expectCode(
      f.app.request("/api/v1/repositories/missing/x/-/star", { method: "PUT", headers: alice }),
      404,
      "NAME_UNKNOWN",
    );
    await expectCode(f.app.request("/api/v1/admin/overview", { headers: alice }), 403, "DENIED");
    const root = f.basic("root", "root-password");
    const overview = (await (
      await f.app.request("/api/v1/admin/overview", { headers: root })
    ).json()) as {
      storage: { blobs: number };
      federation: boolean;
    };
    assert.ok(overview.storage.blobs >= 2);
    assert.equal(overview.federation, true);
    assert.equal(
      (
        await f.app.request("/api/v1/repositories/alice/app/-/boost", {
          method: "PUT",
          headers: root,
        })
      ).status,
      204,
    );
    const home = (await (await f.app.request("/api/v1/home")).json()) as {
      boosted: Array<{ local?: string }>;
    };
    assert.equal(home.boosted[0]?.local, "alice/app");
  });

  it("says federation is off (503) when it is", async () => {
    const off = await webFixture();
    await off.accounts.createUser("alice", "alice-password");
    await pushImage(off.app, "alice/app", { tag: "1.0" });
    await expectCode(
      off.app.request("/api/v1/repositories/alice/app/-/star", {
        method: "PUT",
        headers: off.basic("alice", "alice-password"),
      }),
      503,
      "UNAVAILABLE",
    );
    assert.match(await (await off.app.request("/")).text(), /Federation is off/);
    const instance = (await (await off.app.request("/api/v1/instance")).json()) as {
      features: { federation: boolean };
    };
    assert.equal(instance.features.federation, false);
  });
  it("lets everyone read and administer when authentication is off", async () => {
    const open = await webFixture({ auth: false });
    await pushImage(open.app, "team/app", { tag: "1.0" });
    const me = (await (await open.app.request("/api/v1/me")).json()) as { open: boolean };
    assert.equal(me.open, true);
    assert.equal((await open.app.request("/admin")).status, 200);
    const login = await open.app.request("/login");
    assert.equal(login.status, 303, "nobody to sign in as");
    await expectCode(open.app.request("/api/v1/tokens"), 401, "UNAUTHORIZED");
    const res = await open.app.request(
      "/api/v1/repositories/team/app",
      json("PATCH", { description: "open" }),
    );
    assert.equal(res.status, 200);
    await expectCode(open.app.request("/api/v1/nothing-here"), 404, "NOT_FOUND");
  });
});

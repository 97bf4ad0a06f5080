/** Pages: sign-in with sessions and CSRF, repository and manifest pages, tokens, members, admin. */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { pushImage } from "../http/test-support.ts";
import { type WebFixture, webFixture } from "./test-fixture.ts";

/** A browser: keeps cookies, follows nothing by itself. */
class Browser {
  cookies = new Map<string, string>();
  readonly f: WebFixture;
  constructor(f: WebFixture) {
    this.f = f;
  }
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    const res = await this.f.app.request(path, {
      ...init,
      headers: { ...(cookie ? { Cookie: cookie } : {}), ...(init.headers as object) },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const [name, value] = (pair ?? "").split("=");
      if (!name) continue;
      if (!value || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }
  post(path: string, fields: Record<string, string>) {
    return this.request(path, {
      method: "POST",
      body: new URLSearchParams(fields).toString(),
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
  }
  async csrf(path = "/"): Promise<string> {
    const text = await (await this.request(path)).text();
    const match = /name="_csrf" value="([^"]+)"/.exec(text);
    assert.ok(match, `a CSRF field on ${path}`);
    return match[1] as string;
  }
  async signIn(user: string, password: string): Promise<Response> {
    const token = await this.csrf("/login?next=/settings/tokens");
    return this.post("/login", {
      _csrf: token,
      username: user,
      password,
      next: "/settings/tokens",
    });
  }
}

describe("web pages", () => {
  let f: WebFixture;

  before(async () => {
    f = await webFixture({ social: true });
    await f.accounts.createUser("alice", "alice-password");
    await f.accounts.createUser("bob", "bob-password");
    await f.accounts.createUser("root", "root-password", { admin: true });
    await f.accounts.createOrg("team", "alice");
    await pushImage(f.app, "alice/app", { tag: "1.0", layerContent: "x" });
    await pushImage(f.app, "team/tool", { tag: "v2", layerContent: "y" });
  });

  it("renders the home page with landmarks, without a session", async () => {
    const res = await f.app.request("/");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    const text = await res.text();
    for (const landmark of ["<header>", '<main id="main">', "<footer>", 'role="search"', "<nav"])
      assert.ok(text.includes(landmark), landmark);
    assert.match(text, /href="\/r\/alice\/app"/);
    assert.match(text, /Sign in/);
    assert.match(
      await (await f.app.request("/static/flotilla.css")).text(),
      /prefers-color-scheme/,
    );
  });

  it("signs in with a password, refuses wrong ones and forged forms", async () => {
    const browser = new Browser(f);
    const token = await browser.csrf("/login");
    const wrong = await browser.post("/login", {
      _csrf: token,
      username: "alice",
      password: "nope-nope",
    });
    assert.equal(wrong.status, 401);
    assert.match(await wrong.text(), /Wrong user name or password/);
    const forged = await new Browser(f).post("/login", {
      _csrf: "forged",
      username: "alice",
      password: "alice-password",
    });
    assert.equal(forged.status, 403);
    const ok = await browser.signIn("alice", "alice-password");
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get("location"), "/settings/tokens");
    const cookie = ok.headers.getSetCookie().find((c) => c.startsWith("flotilla_session="));
    assert.ok(cookie && /HttpOnly/i.test(cookie) && /SameSite=Lax/i.test(cookie));
    assert.match(await (await browser.request("/")).text(), /Sign out/);
    // A tampered cookie is no session at all.
    const tampered = new Browser(f);
    tampered.cookies.set("flotilla_session", `${browser.cookies.get("flotilla_session")}x`);
    assert.match(await (await tampered.request("/")).text(), /Sign in/);
  });

  it("creates and revokes tokens only with the session's CSRF token", async () => {
    const browser = new Browser(f);
    await browser.signIn("alice", "alice-password");
    const noCsrf = await browser.post("/settings/tokens", { name: "ci", scope: "push" });
    assert.equal(noCsrf.status, 403);
    const csrf = await browser.csrf("/settings/tokens");
    const created = await browser.post("/settings/tokens", {
      _csrf: csrf,
      name: "ci",
      scope: "push",
    });
    assert.equal(created.status, 201);
    const page = await created.text();
    const value = /data-copy="(flt_[^"]+)"/.exec(page)?.[1];
    assert.ok(value, "the new token is shown once");
    const check = await f.accounts.authenticate("alice", value, "test");
    assert.equal(check.ok, true);
    const [token] = await f.accounts.listTokens("alice");
    const revoked = await browser.post(`/settings/tokens/${token?.id}/revoke`, { _csrf: csrf });
    assert.equal(revoked.status, 303);
    assert.equal((await f.accounts.authenticate("alice", value, "test")).ok, false);
    // Anonymous visitors are sent to sign in.
    const anonymous = await f.app.request("/settings/tokens");
    assert.equal(anonymous.status, 303);
    assert.match(anonymous.headers.get("location") ?? "", /^\/login\?next=/);
  });

  it("shows a repository with tags, pull commands, safe README and settings for owners", async () => {
    const browser = new Browser(f);
    await browser.signIn("alice", "alice-password");
    const csrf = await browser.csrf("/r/alice/app");
    const saved = await browser.post("/r/alice/app/-/settings", {
      _csrf: csrf,
      description: "An <b>app</b>",
      readme:
        "# Hello\n\n<script>alert(1)</script>\n\n[bad](javascript:alert(1)) [good](https://example.org)",
      visibility: "inherit",
    });
    assert.equal(saved.status, 303);
    const text = await (await f.app.request("/r/alice/app")).text();
    assert.match(text, /An &lt;b&gt;app&lt;\/b&gt;/);
    assert.match(text, /<h1>Hello<\/h1>/);
    assert.ok(!text.includes("<script>alert"), "no raw HTML from the README");
    assert.ok(!text.includes('href="javascript:'), "no javascript: links");
    assert.match(text, /href="https:\/\/example.org" rel="nofollow/);
    assert.match(text, /data-copy="docker pull registry.test\/alice\/app:1.0"/);
    assert.match(text, /data-copy="docker pull registry.test\/alice\/app@sha256:[0-9a-f]{64}"/);
    assert.match(text, /linux\/amd64/);
    assert.match(text, /@alice@registry.test/);
    assert.ok(!text.includes('id="settings"'), "no settings form for anonymous readers");
    // Bob may read but not change it.
    const bob = new Browser(f);
    await bob.signIn("bob", "bob-password");
    const denied = await bob.post("/r/alice/app/-/settings", {
      _csrf: await bob.csrf("/r/alice/app"),
      description: "mine",
    });
    assert.equal(denied.status, 403);
  });

  it("opens the manifest sub-page and answers 404 and 400 pages for bad names", async () => {
    const page = await (await f.app.request("/r/alice/app")).text();
    const href = /href="(\/r\/alice\/app\/-\/manifest\/sha256:[0-9a-f]{64})"/.exec(page)?.[1];
    assert.ok(href);
    const manifest = await f.app.request(href);
    assert.equal(manifest.status, 200);
    const text = await manifest.text();
    assert.match(text, /Layers/);
    assert.match(text, /application\/vnd.oci.image.layer.v1.tar\+gzip/);
    assert.equal((await f.app.request("/r/alice/missing")).status, 404);
    assert.equal((await f.app.request("/r/Alice/App")).status, 400);
    assert.equal((await f.app.request("/r/alice/app/-/manifest/sha256:zz")).status, 400);
  });

  it("hides private repositories from outsiders, as if missing", async () => {
    await f.accounts.store.setRepositoryVisibility("team/tool", "private");
    assert.equal((await f.app.request("/r/team/tool")).status, 404);
    assert.ok(!(await (await f.app.request("/u/team")).text()).includes("team/tool"));
    const alice = new Browser(f);
    await alice.signIn("alice", "alice-password");
    assert.equal((await alice.request("/r/team/tool")).status, 200);
    await f.accounts.store.setRepositoryVisibility("team/tool", null);
  });

  it("lets organization owners manage members, and nobody else", async () => {
    const alice = new Browser(f);
    await alice.signIn("alice", "alice-password");
    const csrf = await alice.csrf("/u/team");
    const added = await alice.post("/u/team/-/members", {
      _csrf: csrf,
      user: "bob",
      role: "maintainer",
    });
    assert.equal(added.status, 303);
    assert.equal(await f.accounts.store.getRole("team", "bob"), "maintainer");
    const page = await (await alice.request("/u/team")).text();
    assert.match(page, /maintainer/);
    const bob = new Browser(f);
    await bob.signIn("bob", "bob-password");
    const denied = await bob.post("/u/team/-/members", {
      _csrf: await bob.csrf("/u/team"),
      user: "bob",
      role: "owner",
    });
    assert.equal(denied.status, 403);
    const unknown = await alice.post("/u/team/-/members", {
      _csrf: csrf,
      user: "ghost",
      role: "reader",
    });
    assert.equal(unknown.status, 404);
  });

  it("stars, reports and signs out through forms", async () => {
    const bob = new Browser(f);
    await bob.signIn("bob", "bob-password");
    const csrf = await bob.csrf("/r/alice/app");
    assert.equal((await bob.post("/r/alice/app/-/star", { _csrf: csrf })).status, 303);
    assert.match(await (await bob.request("/r/alice/app")).text(), /★ 1 star\b/);
    assert.equal(
      (await bob.post("/r/alice/app/-/report", { _csrf: csrf, text: "spam" })).status,
      303,
    );
    assert.equal(f.social?.reportList[0]?.text, "spam");
    const kept = new Map(bob.cookies);
    assert.equal((await bob.post("/logout", { _csrf: csrf })).status, 303);
    assert.match(await (await bob.request("/")).text(), /Sign in/);
    // A copy of the session cookie taken before signing out no longer signs anyone in.
    bob.cookies = kept;
    assert.match(await (await bob.request("/")).text(), /Sign in/);
    const other = new Browser(f);
    await other.signIn("bob", "bob-password");
    assert.doesNotMatch(await (await other.request("/")).text(), /Sign in/);
  });

  it("gives administrators their page and keeps others out", async () => {
    const root = new Browser(f);
    await root.signIn("root", "root-password");
    const page = await (await root.request("/admin")).text();
    assert.match(page, /Storage/);
    assert.match(page, /Blocked domains/);
    const csrf = await root.csrf("/admin");
    assert.equal(
      (await root.post("/admin/blocks", { _csrf: csrf, domain: "Bad.Example", reason: "spam" }))
        .status,
      303,
    );
    assert.equal(f.social?.blocked.has("bad.example"), true);
    assert.equal(
      (await root.post("/admin/blocks", { _csrf: csrf, domain: "not a domain" })).status,
      400,
    );
    assert.equal(
      (await root.post("/admin/settings", { _csrf: csrf, name: "Harbour", description: "d" }))
        .status,
      303,
    );
    assert.match(await (await f.app.request("/")).text(), /<title>Home · Harbour<\/title>/);
    const bob = new Browser(f);
    await bob.signIn("bob", "bob-password");
    assert.equal((await bob.request("/admin")).status, 403);
  });
});

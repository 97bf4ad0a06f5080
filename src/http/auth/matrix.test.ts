/**
 * Who may do what: every caller × operation × visibility, each cell asserted, plus the rule that
 * a private repository looks exactly like a missing one to outsiders.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { before, describe, it } from "node:test";
import { type AuthFixture, authFixture } from "./test-fixture.ts";

type Caller = "anonymous" | "rita" | "mia" | "alice" | "olga" | "root";
const callers: Caller[] = ["anonymous", "rita", "mia", "alice", "olga", "root"];
const members = new Set<Caller>(["rita", "mia", "alice", "root"]);
const writers = new Set<Caller>(["mia", "alice", "root"]);
const repos = { public: "team/public", private: "team/private" } as const;

const user = (caller: Caller) => (caller === "anonymous" ? undefined : caller);

describe("access matrix", () => {
  let f: AuthFixture;
  const layers: Record<string, string> = {};

  before(async () => {
    f = await authFixture();
    for (const [visibility, repo] of Object.entries(repos)) {
      const seeded = await f.seed(repo, "latest");
      layers[visibility] = seeded.layer;
      for (const caller of callers) await f.seed(repo, `del-${caller}`);
    }
    await f.accounts.store.setRepositoryVisibility(repos.private, "private");
  });

  for (const [visibility, repo] of Object.entries(repos)) {
    for (const caller of callers) {
      const mayPull = visibility === "public" || members.has(caller);
      const mayWrite = writers.has(caller);

      it(`${caller} pull ${visibility}: ${mayPull ? 200 : 401}`, async () => {
        const token = await f.token(user(caller), [`repository:${repo}:pull`]);
        const res = await f.request(`/v2/${repo}/manifests/latest`, token);
        assert.equal(res.status, mayPull ? 200 : 401);
        if (!mayPull) {
          assert.match(
            res.headers.get("www-authenticate") ?? "",
            new RegExp(`scope="repository:${repo}:pull"`),
          );
        }
      });

      it(`${caller} push ${visibility}: ${mayWrite ? 201 : 401}`, async () => {
        const token = await f.token(user(caller), [`repository:${repo}:pull,push`]);
        const blob = Buffer.from(`pushed by ${caller} to ${repo}`);
        const digest = `sha256:${createHash("sha256").update(blob).digest("hex")}`;
        const res = await f.request(`/v2/${repo}/blobs/uploads/?digest=${digest}`, token, {
          method: "POST",
          body: blob,
          headers: { "Content-Length": String(blob.length) },
        });
        assert.equal(res.status, mayWrite ? 201 : 401);
      });

      it(`${caller} delete ${visibility}: ${mayWrite ? 202 : 401}`, async () => {
        const token = await f.token(user(caller), [`repository:${repo}:delete`]);
        const res = await f.request(`/v2/${repo}/manifests/del-${caller}`, token, {
          method: "DELETE",
        });
        assert.equal(res.status, mayWrite ? 202 : 401);
      });

      it(`${caller} catalog ${visibility}: ${mayPull ? "listed" : "hidden"}`, async () => {
        const token = await f.token(user(caller), ["registry:catalog:*"]);
        const res = await f.request("/v2/_catalog", token);
        assert.equal(res.status, 200);
        const { repositories } = (await res.json()) as { repositories: string[] };
        assert.equal(repositories.includes(repo), mayPull);
      });

      const target = caller === "anonymous" ? "team/public" : `${caller}/mounted`;
      const canPushTarget = caller !== "anonymous";
      const expected = !canPushTarget ? 401 : mayPull ? 201 : 202;
      it(`${caller} mount from ${visibility}: ${expected}`, async () => {
        const token = await f.token(user(caller), [
          `repository:${target}:pull,push`,
          `repository:${repo}:pull`,
        ]);
        const layer = layers[visibility] as string;
        const res = await f.request(
          `/v2/${target}/blobs/uploads/?mount=${layer}&from=${repo}`,
          token,
          { method: "POST" },
        );
        assert.equal(res.status, expected);
        if (expected === 202) {
          // Without pull rights on the source, no mount: the client uploads, and learns nothing.
          const head = await f.request(`/v2/${target}/blobs/${layer}`, token, { method: "HEAD" });
          assert.equal(head.status, 404);
        }
      });
    }
  }

  it("a private repository answers outsiders exactly like a missing one", async () => {
    for (const caller of ["anonymous", "olga"] as const) {
      const answers = [];
      for (const repo of ["team/private", "team/missing", "nobody/missing"]) {
        const token = await f.token(user(caller), [`repository:${repo}:pull`]);
        const res = await f.request(`/v2/${repo}/manifests/latest`, token);
        const body = (await res.json()) as { errors: Array<{ code: string }> };
        answers.push(`${res.status} ${body.errors[0]?.code}`);
      }
      assert.deepEqual(new Set(answers).size, 1, `${caller}: ${answers.join(" | ")}`);
    }
  });

  it("an administrator pushing to a new namespace creates it as an organization they own", async () => {
    const token = await f.token("root", ["repository:brandnew/app:pull,push"]);
    const res = await f.request("/v2/brandnew/app/blobs/uploads/", token, { method: "POST" });
    assert.equal(res.status, 202);
    assert.equal((await f.accounts.store.getNamespace("brandnew"))?.kind, "org");
    assert.equal(await f.accounts.store.getRole("brandnew", "root"), "owner");
    const other = await f.token("olga", ["repository:nobodyhere/app:pull,push"]);
    const denied = await f.request("/v2/nobodyhere/app/blobs/uploads/", other, { method: "POST" });
    assert.equal(denied.status, 401);
    assert.equal(await f.accounts.store.getNamespace("nobodyhere"), undefined);
  });
});

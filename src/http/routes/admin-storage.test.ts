/** The storage admin API (GC runs, quotas) and quota enforcement on uploads and mounts. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AccountService } from "../../accounts/index.ts";
import { createLifecycle } from "../../lifecycle/index.ts";
import { silentLogger } from "../../log/index.ts";
import { SqliteAccountStore, SqliteDatabase, SqliteMetaStore } from "../../meta/index.ts";
import { createRegistry } from "../../registry/index.ts";
import { FsBlobStore } from "../../storage/index.ts";
import { createApp } from "../app.ts";
import { testAuth } from "../auth/test-fixture.ts";
import {
  errorCode,
  pushBlob,
  sha256,
  startUpload,
  tempDir,
  withBody,
  withQuery,
} from "../test-support.ts";

async function setup(authOn: boolean) {
  const root = await tempDir("flotilla-admin-storage-");
  const database = new SqliteDatabase(":memory:");
  const meta = new SqliteMetaStore({ database });
  const log = silentLogger();
  const blobs = await FsBlobStore.create({ root });
  const registry = createRegistry(
    { blobs, meta, log },
    { maxManifestBytes: 1 << 20, manifestCacheBytes: 1 << 20 },
  );
  const accounts = new AccountService(new SqliteAccountStore(database), { refreshTokenDays: 1 });
  await accounts.createUser("root", "root-password", { admin: true });
  await accounts.createUser("alice", "alice-password");
  const lifecycle = createLifecycle(
    { database, meta, blobs, registry, dataDir: root, log },
    {
      gc: { intervalHours: 0, graceMinutes: 60, deleteUntagged: false },
      retention: { policies: [] },
      quota: { enforce: true },
      registry: { uploadExpiryHours: 24, maxManifestBytes: 1 << 20, manifestCacheMegabytes: 1 },
    },
  );
  const auth = authOn ? testAuth(root, accounts) : undefined;
  const app = createApp({ registry, log, lifecycle }, { auth });
  return { app, accounts, lifecycle };
}

const basic = (user: string, password: string) => ({
  Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
});
const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: "PUT",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});

describe("storage admin API", () => {
  it("lets only administrators in when access control is on", async () => {
    const { app, accounts } = await setup(true);
    assert.equal((await app.request("/api/v1/admin/gc")).status, 401);
    assert.equal((await app.request("/api/v1/quotas")).status, 401);
    const alice = await app.request("/api/v1/quotas", {
      headers: basic("alice", "alice-password"),
    });
    assert.equal(alice.status, 403);
    assert.equal(await errorCode(alice), "DENIED");
    const root = basic("root", "root-password");
    assert.equal((await app.request("/api/v1/admin/gc", { headers: root })).status, 200);
    const admin = await accounts.createToken("root", { name: "ops", scope: "admin" });
    const pull = await accounts.createToken("root", { name: "ro", scope: "pull" });
    const byToken = await app.request("/api/v1/admin/gc?dryRun=true", {
      method: "POST",
      headers: basic("root", admin.value),
    });
    assert.equal(byToken.status, 200);
    assert.equal(((await byToken.json()) as { dryRun: boolean }).dryRun, true);
    const weak = await app.request("/api/v1/quotas", { headers: basic("root", pull.value) });
    assert.equal(weak.status, 403);
    const wrong = await app.request("/api/v1/quotas", { headers: basic("root", "nope-nope") });
    assert.equal(wrong.status, 401);
  });

  it("runs GC, lists the runs, and refuses bad parameters with OCI errors", async () => {
    const { app } = await setup(false);
    const dry = await app.request("/api/v1/admin/gc?dryRun=true", { method: "POST" });
    assert.equal(dry.status, 200);
    const real = await app.request("/api/v1/admin/gc?trigger=cli", { method: "POST" });
    assert.equal(((await real.json()) as { dryRun: boolean }).dryRun, false);
    const runs = (await (await app.request("/api/v1/admin/gc")).json()) as {
      runs: Array<{ kind: string; dryRun: boolean; trigger: string }>;
    };
    assert.deepEqual(
      runs.runs.map((r) => [r.kind, r.dryRun, r.trigger]),
      [
        ["gc", false, "cli"],
        ["gc", true, "api"],
      ],
    );
    const bad = await app.request("/api/v1/admin/gc?dryRun=maybe", { method: "POST" });
    assert.equal(bad.status, 400);
    assert.equal(await errorCode(bad), "UNSUPPORTED");
    const limit = await app.request("/api/v1/admin/gc?limit=0");
    assert.equal(limit.status, 400);
    const retention = await app.request("/api/v1/admin/retention?dryRun=true", { method: "POST" });
    assert.equal(retention.status, 200);
  });

  it("sets, shows and removes quotas", async () => {
    const { app } = await setup(false);
    const set = await app.request("/api/v1/admin/quotas/alice", json({ bytes: "10GiB" }));
    assert.equal(set.status, 200);
    assert.deepEqual(await set.json(), { namespace: "alice", used: 0, limit: 10 * 1024 ** 3 });
    await pushBlob(app, "alice/app", "twelve bytes");
    await pushBlob(app, "alice/other", "twelve bytes");
    const one = (await (await app.request("/api/v1/quotas/alice")).json()) as { used: number };
    assert.equal(one.used, 12, "a blob in two repositories counts once");
    const all = (await (await app.request("/api/v1/quotas")).json()) as { quotas: unknown[] };
    assert.deepEqual(all.quotas, [{ namespace: "alice", used: 12, limit: 10 * 1024 ** 3 }]);
    for (const body of [{ bytes: "lots" }, { bytes: -1 }, { bytes: 1.5 }, {}]) {
      const res = await app.request("/api/v1/admin/quotas/alice", json(body));
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(await errorCode(res), "SIZE_INVALID");
    }
    const badName = await app.request("/api/v1/admin/quotas/Not..Valid", json({ bytes: 1 }));
    assert.equal(badName.status, 400);
    assert.equal(await errorCode(badName), "NAME_INVALID");
    const notJson = await app.request("/api/v1/admin/quotas/alice", { method: "PUT", body: "{" });
    assert.equal(notJson.status, 400);
    assert.equal(
      (await app.request("/api/v1/admin/quotas/alice", { method: "DELETE" })).status,
      204,
    );
    const gone = (await (await app.request("/api/v1/quotas/alice")).json()) as object;
    assert.deepEqual(gone, { namespace: "alice", used: 12 });
  });
});

describe("quota enforcement", () => {
  it("refuses an upload that takes the namespace over its quota with DENIED and a clear message", async () => {
    const { app } = await setup(false);
    await app.request("/api/v1/admin/quotas/alice", json({ bytes: 20 }));
    await pushBlob(app, "alice/app", "0123456789");
    // The same bytes again (another repository of the namespace) count nothing.
    await pushBlob(app, "alice/other", "0123456789");
    const big = "x".repeat(11);
    const res = await app.request(
      `/v2/alice/app/blobs/uploads/?digest=${sha256(big)}`,
      withBody("POST", new TextEncoder().encode(big)),
    );
    assert.equal(res.status, 403);
    const body = (await res.json()) as { errors: Array<{ code: string; message: string }> };
    assert.equal(body.errors[0]?.code, "DENIED");
    assert.equal(body.errors[0]?.message, "namespace alice is over its quota: 21 B used of 20 B");
    assert.equal(
      (await app.request(`/v2/alice/app/blobs/${sha256(big)}`, { method: "HEAD" })).status,
      404,
    );
    // Other namespaces are not limited.
    await pushBlob(app, "bob/app", big);
  });

  it("cuts a chunked upload as soon as it outgrows the quota", async () => {
    const { app } = await setup(false);
    await app.request("/api/v1/admin/quotas/alice", json({ bytes: 1000 }));
    const location = await startUpload(app, "alice/app");
    const chunk = new Uint8Array(600).fill(1);
    const first = await app.request(location, withBody("PATCH", chunk));
    assert.equal(first.status, 202);
    const next = first.headers.get("location") ?? location;
    const second = await app.request(next, withBody("PATCH", chunk));
    assert.equal(second.status, 403);
    assert.equal(await errorCode(second), "DENIED");
    const status = await app.request(next);
    assert.equal(status.headers.get("range"), "0-599", "nothing of the refused chunk was kept");
  });

  it("refuses a mount over the quota", async () => {
    const { app } = await setup(false);
    const blob = await pushBlob(app, "bob/app", "mounted bytes");
    await app.request("/api/v1/admin/quotas/alice", json({ bytes: 5 }));
    const res = await app.request(
      withQuery("/v2/alice/app/blobs/uploads/", `mount=${blob.digest}&from=bob/app`),
      { method: "POST" },
    );
    assert.equal(res.status, 403);
    assert.equal(await errorCode(res), "DENIED");
    await app.request("/api/v1/admin/quotas/alice", json({ bytes: 100 }));
    const ok = await app.request(
      withQuery("/v2/alice/app/blobs/uploads/", `mount=${blob.digest}&from=bob/app`),
      { method: "POST" },
    );
    assert.equal(ok.status, 201);
  });
});

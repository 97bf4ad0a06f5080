import assert from "node:assert/strict";
import { after, test } from "node:test";
import { AccessPolicy, AccountService } from "../../accounts/index.ts";
import { silentLogger } from "../../log/index.ts";
import { SqliteAccountStore, SqliteDatabase, SqliteMetaStore } from "../../meta/index.ts";
import { createMirror, SqliteMirrorStore } from "../../mirror/index.ts";
import { fakeImage, startFakeOrigin } from "../../mirror/test-support.ts";
import { createGuardedFetcher } from "../../net/index.ts";
import { createRegistry } from "../../registry/index.ts";
import { FsBlobStore } from "../../storage/index.ts";
import { createApp } from "../app.ts";
import { testAuth } from "../auth/test-fixture.ts";
import { tempDir } from "../test-support.ts";

const origin = await startFakeOrigin();
after(() => origin.close());
const image = fakeImage("served");
origin.add("alice/app", "1.0", image);
const host = `127.0.0.1_${origin.port}`;
const localName = `${host}/alice/app`;

async function setup(authOn: boolean) {
  const root = await tempDir("flotilla-mirror-api-");
  const database = new SqliteDatabase(":memory:");
  const meta = new SqliteMetaStore({ database });
  const log = silentLogger();
  const blobStore = await FsBlobStore.create({ root });
  const registry = createRegistry(
    { blobs: blobStore, meta, log },
    { maxManifestBytes: 1 << 20, manifestCacheBytes: 1 << 20 },
  );
  const store = new SqliteMirrorStore(database);
  const isMirrored = async (namespace: string) => store.hasNamespace(namespace);
  const accounts = new AccountService(new SqliteAccountStore(database), {
    refreshTokenDays: 1,
    isMirroredHost: isMirrored,
  });
  await accounts.createUser("root", "root-password", { admin: true });
  await accounts.createUser("bob", "bob-password");
  const mirror = createMirror(
    {
      store,
      fetcher: createGuardedFetcher(
        {},
        { allowPrivateAddresses: true, timeoutMs: 5000, maxDocumentBytes: 1 << 20 },
      ),
      meta,
      registry,
      log,
    },
    { maxManifestBytes: 1 << 20, eagerBlobs: false, syncOnTrack: true, maxSyncTags: 10 },
  );
  registry.blobs.addSource(mirror.blobSource());
  const auth = authOn
    ? testAuth(root, accounts, new AccessPolicy(accounts.store, { isMirrored }))
    : undefined;
  const app = createApp({ registry, log, mirror }, { auth });
  return { app, mirror, accounts, registry };
}

const basic = (user: string, password: string) => ({
  Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
});

async function token(
  app: Awaited<ReturnType<typeof setup>>["app"],
  scope: string,
  user?: [string, string],
) {
  const res = await app.request(`/token?service=registry.test&scope=${encodeURIComponent(scope)}`, {
    headers: user ? basic(...user) : {},
  });
  const body = (await res.json()) as { token: string; access?: unknown };
  return body.token;
}

test("the admin API tracks and lists mirrors; only administrators may use it", async () => {
  const { app } = await setup(true);
  assert.equal((await app.request("/api/v1/admin/mirrors")).status, 401);
  const bob = await app.request("/api/v1/admin/mirrors", { headers: basic("bob", "bob-password") });
  assert.equal(bob.status, 403);
  assert.equal(
    ((await bob.json()) as { errors: Array<{ code: string }> }).errors[0]?.code,
    "DENIED",
  );

  const bad = await app.request("/api/v1/admin/mirrors", {
    method: "POST",
    headers: { ...basic("root", "root-password"), "content-type": "application/json" },
    body: "[1]",
  });
  assert.equal(bad.status, 400);
  const tracked = await app.request("/api/v1/admin/mirrors", {
    method: "POST",
    headers: { ...basic("root", "root-password"), "content-type": "application/json" },
    body: JSON.stringify({ registryUrl: origin.url, name: "alice/app" }),
  });
  assert.equal(tracked.status, 200);
  assert.deepEqual(await tracked.json(), { ok: true, localName, tags: 1, problems: [] });

  const listed = await app.request("/api/v1/admin/mirrors", {
    headers: basic("root", "root-password"),
  });
  const { mirrors } = (await listed.json()) as {
    mirrors: Array<{ localName: string; tags: number }>;
  };
  assert.equal(mirrors.length, 1);
  assert.equal(mirrors[0]?.localName, localName);
  assert.equal(mirrors[0]?.tags, 1);
});

test("a mirror is public, and nobody (not even an administrator) pushes or deletes there", async () => {
  const { app, mirror, accounts } = await setup(true);
  await mirror.track({
    actorId: `${origin.url}/users/alice`,
    registryUrl: origin.url,
    name: "alice/app",
  });

  const anonymous = await token(app, `repository:${localName}:pull`);
  const pulled = await app.request(`/v2/${localName}/manifests/1.0`, {
    headers: { Authorization: `Bearer ${anonymous}` },
  });
  assert.equal(pulled.status, 200);
  assert.equal(pulled.headers.get("docker-content-digest"), image.digest);
  const [layer] = [...image.blobs.keys()];
  const blob = await app.request(`/v2/${localName}/blobs/${layer}`, {
    headers: { Authorization: `Bearer ${anonymous}` },
  });
  assert.equal(blob.status, 200);
  assert.deepEqual(Buffer.from(await blob.arrayBuffer()), image.blobs.get(layer as string));

  const admin = await token(app, `repository:${localName}:pull,push,delete`, [
    "root",
    "root-password",
  ]);
  const attempts: Array<[string, string]> = [
    ["PUT", `/v2/${localName}/manifests/2.0`],
    ["DELETE", `/v2/${localName}/manifests/1.0`],
    ["POST", `/v2/${localName}/blobs/uploads/`],
    ["DELETE", `/v2/${localName}/blobs/${layer}`],
    ["PUT", `/v2/${host}/someone/else/manifests/x`],
  ];
  for (const [method, path] of attempts) {
    const res = await app.request(path, {
      method,
      headers: { Authorization: `Bearer ${admin}`, "content-type": image.mediaType },
      body: method === "PUT" ? image.bytes : undefined,
    });
    assert.equal(res.status, 403, `${method} ${path}`);
    assert.equal(
      ((await res.json()) as { errors: Array<{ code: string }> }).errors[0]?.code,
      "DENIED",
    );
  }
  // The token endpoint never grants push there either.
  const [, payload] = admin.split(".");
  const claims = JSON.parse(Buffer.from(payload as string, "base64url").toString());
  assert.deepEqual(claims.access[0].actions, ["pull"]);

  await assert.rejects(
    accounts.createUser(host, "some-password"),
    /namespace of a mirrored registry/,
  );
  await assert.rejects(accounts.createOrg(host, "root"), /namespace of a mirrored registry/);
});

test("without access control, writes into a mirror are still DENIED", async () => {
  const { app, mirror } = await setup(false);
  await mirror.track({
    actorId: `${origin.url}/users/alice`,
    registryUrl: origin.url,
    name: "alice/app",
  });
  const res = await app.request(`/v2/${localName}/manifests/1.0`, { method: "DELETE" });
  assert.equal(res.status, 403);
  assert.equal((await app.request(`/v2/${localName}/manifests/1.0`)).status, 200);
  assert.equal((await app.request("/api/v1/admin/mirrors")).status, 200);
});

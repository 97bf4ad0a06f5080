import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { after, test } from "node:test";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 as sha256Hasher } from "multiformats/hashes/sha2";
import { createLogger } from "../log/index.ts";
import { SqliteDatabase, SqliteMetaStore } from "../meta/index.ts";
import { createGuardedFetcher, forbiddenAddressReason } from "../net/index.ts";
import { createRegistry } from "../registry/index.ts";
import { FsBlobStore } from "../storage/index.ts";
import { ipfsManifestFetcher } from "./ipfs-manifests.ts";
import type { CidFetcher } from "./manifests.ts";
import { createMirror, type MirrorOptions } from "./mirror.ts";
import { SqliteMirrorStore } from "./store.ts";
import { type FakeOrigin, fakeImage, fakeIndex, startFakeOrigin } from "./test-support.ts";
import type { TagClaim } from "./types.ts";

const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanup) await c();
});

interface HarnessOptions extends Partial<MirrorOptions> {
  timeoutMs?: number;
  /** Judge addresses for real, letting only 127.0.0.1 stand in for a public origin. */
  strictAddresses?: boolean;
  taken?: string[];
  fetchByCid?: CidFetcher;
}

async function harness(options: HarnessOptions = {}) {
  const database = new SqliteDatabase(":memory:");
  const meta = new SqliteMetaStore({ database });
  const root = await mkdtemp(join(tmpdir(), "flotilla-mirror-"));
  cleanup.push(() => rm(root, { recursive: true, force: true }));
  const blobStore = await FsBlobStore.create({ root });
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(JSON.parse(String(chunk)));
      callback();
    },
  });
  const log = createLogger({ level: "info", format: "json" }, sink);
  const registry = createRegistry(
    { blobs: blobStore, meta, log },
    { maxManifestBytes: 4 << 20, manifestCacheBytes: 1 << 20 },
  );
  const store = new SqliteMirrorStore(database);
  const fetcher = createGuardedFetcher(
    options.strictAddresses
      ? { forbidden: (a) => (a === "127.0.0.1" ? undefined : forbiddenAddressReason(a)) }
      : {},
    {
      allowPrivateAddresses: !options.strictAddresses,
      timeoutMs: options.timeoutMs ?? 5000,
      maxDocumentBytes: 1 << 20,
    },
  );
  const mirror = createMirror(
    {
      store,
      fetcher,
      meta,
      registry,
      namespaceTaken: async (ns) => (options.taken ?? []).includes(ns),
      fetchByCid: options.fetchByCid,
      log,
    },
    {
      maxManifestBytes: options.maxManifestBytes ?? 4096,
      eagerBlobs: options.eagerBlobs ?? false,
      syncOnTrack: options.syncOnTrack ?? true,
      maxSyncTags: options.maxSyncTags ?? 100,
    },
  );
  registry.blobs.addSource(mirror.blobSource());
  return { mirror, registry, meta, blobStore, store, lines, database };
}

async function origin(): Promise<FakeOrigin> {
  const o = await startFakeOrigin();
  cleanup.push(() => o.close());
  return o;
}

function remote(o: FakeOrigin, name = "alice/app") {
  return { actorId: `${o.url}/users/alice/repos/app`, registryUrl: o.url, name };
}

function claim(
  o: FakeOrigin,
  tag: string,
  image: ReturnType<typeof fakeImage>,
  extra: Partial<TagClaim> = {},
): TagClaim {
  return {
    repository: remote(o),
    tag,
    digest: image.digest,
    mediaType: image.mediaType,
    size: image.bytes.length,
    activityId: `${o.url}/activities/${tag}`,
    objectId: `${o.url}/notes/${tag}`,
    signer: `${o.url}/users/alice#main-key`,
    published: new Date(),
    ...extra,
  };
}

async function readBlob(
  registry: Awaited<ReturnType<typeof harness>>["registry"],
  name: string,
  digest: string,
) {
  const body = await registry.blobs.open(name, digest);
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  await body.write(out);
  out.end();
  return Buffer.concat(chunks);
}

test("track: initial sync lists the origin's tags page by page (with a token) and stores their manifests", async () => {
  const o = await origin();
  o.requireToken = true;
  for (const tag of ["1.0", "1.1", "2.0", "latest", "edge"])
    o.add("alice/app", tag, fakeImage(tag));
  const h = await harness();
  const result = await h.mirror.track(remote(o));
  assert.deepEqual(result, {
    ok: true,
    localName: `127.0.0.1_${o.port}/alice/app`,
    tags: 5,
    problems: [],
  });
  const localName = `127.0.0.1_${o.port}/alice/app`;
  assert.deepEqual(await h.registry.manifests.tags(localName, { limit: 10 }), [
    "1.0",
    "1.1",
    "2.0",
    "edge",
    "latest",
  ]);
  const got = await h.registry.manifests.get(localName, "2.0");
  assert.equal(got.digest, fakeImage("2.0").digest);
  assert.ok(o.seen.filter((s) => s.endsWith("/tags/list")).length >= 3, "paginated");
  assert.ok(o.seen.includes("GET /token"));
  const [status] = await h.mirror.list();
  assert.equal(status?.tags, 5);
  assert.equal(status?.localName, localName);
  assert.equal(status?.lastError, undefined);
  assert.ok(await h.mirror.isTracked(remote(o).actorId));
  assert.ok(await h.mirror.isMirroredRepository(localName));
  assert.ok(await h.mirror.isMirroredRepository(`127.0.0.1_${o.port}/bob/other`));
  assert.equal(await h.mirror.isMirroredRepository("alice/app"), false);
});

test("a tag claim stores the manifest; blobs come from the origin on first pull, then stay when it is down", async () => {
  const o = await origin();
  const image = fakeImage("claimed");
  o.add("alice/app", "1.0", image);
  o.requireToken = true;
  const h = await harness({ syncOnTrack: false });
  assert.equal((await h.mirror.track(remote(o))).ok, true);
  const result = await h.mirror.applyTagClaim(claim(o, "1.0", image));
  assert.deepEqual(result, { ok: true, localName: `127.0.0.1_${o.port}/alice/app`, tags: 1 });
  const localName = result.ok ? result.localName : "";
  assert.equal((await h.registry.manifests.get(localName, "1.0")).digest, image.digest);
  const evidence = h.store.tagEvidence(localName, "1.0");
  assert.equal(evidence?.activityId, `${o.url}/activities/1.0`);
  assert.equal(evidence?.signer, `${o.url}/users/alice#main-key`);
  assert.equal(o.seen.filter((s) => s.includes("/blobs/")).length, 0, "blobs are lazy by default");

  for (const [digest, bytes] of image.blobs)
    assert.deepEqual(await readBlob(h.registry, localName, digest), bytes);
  // The response ends once the bytes are verified; storing them follows a moment later.
  for (const digest of image.blobs.keys()) {
    for (let i = 0; !(await h.meta.linkedBlobSize(localName, digest)); i++) {
      assert.ok(i < 200, `${digest} stored`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  await o.close();
  for (const [digest, bytes] of image.blobs)
    assert.deepEqual(await readBlob(h.registry, localName, digest), bytes);
  assert.equal((await h.registry.manifests.get(localName, "1.0")).digest, image.digest);
});

test("an index is stored with its child manifests", async () => {
  const o = await origin();
  const children = [fakeImage("amd64"), fakeImage("arm64")];
  const index = fakeIndex(children);
  o.add("alice/app", "multi", index, children);
  const h = await harness({ syncOnTrack: false });
  await h.mirror.track(remote(o));
  const result = await h.mirror.applyTagClaim(claim(o, "multi", index));
  assert.equal(result.ok, true);
  const localName = `127.0.0.1_${o.port}/alice/app`;
  for (const child of children) assert.ok(await h.meta.getManifest(localName, child.digest));
  assert.equal((await h.registry.manifests.get(localName, "multi")).digest, index.digest);
});

test("indexes nested deeper than the mirror follows are refused, nothing tagged", async () => {
  const o = await origin();
  const image = fakeImage("deep");
  const inner = fakeIndex([image]);
  const middle = fakeIndex([inner]);
  const outer = fakeIndex([middle]);
  o.add("alice/app", "deep", outer, [image, inner, middle]);
  const h = await harness({ syncOnTrack: false });
  await h.mirror.track(remote(o));
  const result = await h.mirror.applyTagClaim(claim(o, "deep", outer));
  assert.equal(result.ok, false);
  assert.match((result as { reason: string }).reason, /nested deeper/);
  assert.deepEqual(await h.meta.listTags(`127.0.0.1_${o.port}/alice/app`, { limit: 10 }), []);
});

test("with a CID and IPFS peers, the manifest comes over IPFS; wrong bytes from peers fall back to the origin", async () => {
  const o = await origin();
  const image = fakeImage("ipfs");
  const other = fakeImage("other");
  o.add("alice/app", "1.0", image);
  const cid = CID.createV1(raw.code, await sha256Hasher.digest(image.bytes)).toString();
  let served = image.bytes;
  const node = {
    peers: () => ["12D3KooWpeer"],
    async *fetch(asked: CID) {
      assert.equal(asked.toString(), cid);
      yield served;
    },
  };
  const h = await harness({ syncOnTrack: false, fetchByCid: ipfsManifestFetcher(node) });
  await h.mirror.track(remote(o));
  assert.equal((await h.mirror.applyTagClaim(claim(o, "1.0", image, { cid }))).ok, true);
  assert.equal(
    o.seen.filter((s) => s.includes("/manifests/")).length,
    0,
    "not asked of the origin",
  );

  served = other.bytes;
  const h2 = await harness({ syncOnTrack: false, fetchByCid: ipfsManifestFetcher(node) });
  await h2.mirror.track(remote(o));
  assert.equal((await h2.mirror.applyTagClaim(claim(o, "1.0", image, { cid }))).ok, true);
  assert.equal(o.seen.filter((s) => s.includes("/manifests/")).length, 1, "the origin as fallback");
  assert.equal(
    (await h2.registry.manifests.get(`127.0.0.1_${o.port}/alice/app`, "1.0")).digest,
    image.digest,
  );
});

test("eagerBlobs fetches every blob when the manifest is stored", async () => {
  const o = await origin();
  const image = fakeImage("eager");
  o.add("alice/app", "1.0", image);
  const h = await harness({ eagerBlobs: true });
  assert.equal((await h.mirror.track(remote(o))).ok, true);
  await h.mirror.idle();
  for (const digest of image.blobs.keys()) assert.ok(await h.blobStore.stat(digest), digest);
});

async function assertRefused(
  h: Awaited<ReturnType<typeof harness>>,
  result: { ok: boolean; reason?: string },
  reason: RegExp,
  localName: string,
) {
  assert.equal(result.ok, false);
  assert.match((result as { reason: string }).reason, reason);
  assert.deepEqual(await h.meta.listTags(localName, { limit: 10 }), []);
  const refusal = h.lines.find((l) => l.category === "mirror" && l.msg === "refused");
  assert.ok(refusal, "logged under category mirror");
  assert.match(String(refusal.reason), reason);
}

test("hostile origin: bytes that do not match the digest are refused, nothing stored", async () => {
  const o = await origin();
  const image = fakeImage("real");
  o.add("alice/app", "1.0", image);
  o.hostile.manifestBytes = fakeImage("evil").bytes;
  const h = await harness({ syncOnTrack: false });
  await h.mirror.track(remote(o));
  const result = await h.mirror.applyTagClaim(claim(o, "1.0", image));
  const localName = `127.0.0.1_${o.port}/alice/app`;
  await assertRefused(h, result, /hash to sha256:.*, not sha256:/, localName);
  assert.equal(await h.meta.getManifest(localName, image.digest), undefined);
  assert.equal(await h.meta.getManifest(localName, fakeImage("evil").digest), undefined);
  assert.match(String((await h.mirror.list())[0]?.lastError), /hash to/);
});

test("hostile origin: an oversized manifest is refused, claimed or not", async () => {
  const o = await origin();
  const big = fakeImage("big", { padding: "x".repeat(3000) });
  o.add("alice/app", "big", big);
  const h = await harness({ syncOnTrack: false, maxManifestBytes: 1024 });
  await h.mirror.track(remote(o));
  const localName = `127.0.0.1_${o.port}/alice/app`;
  await assertRefused(
    h,
    await h.mirror.applyTagClaim(claim(o, "big", big)),
    /over the limit of 1024/,
    localName,
  );
  assert.equal(o.seen.filter((s) => s.includes("/manifests/")).length, 0, "not even fetched");
  // A claim that lies about the size: the fetch stops at the limit.
  const lying = await h.mirror.applyTagClaim(claim(o, "big", big, { size: 500 }));
  assert.equal(lying.ok, false);
  assert.match((lying as { reason: string }).reason, /over the limit of 1024/);
  assert.equal(await h.meta.getManifest(localName, big.digest), undefined);
});

test("hostile origin: a redirect to a private address is refused", async () => {
  const o = await origin();
  const image = fakeImage("redirected");
  o.add("alice/app", "1.0", image);
  o.hostile.redirectManifestsTo = `http://127.0.0.2:${o.port}/v2/alice/app/manifests/${image.digest}`;
  const h = await harness({ syncOnTrack: false, strictAddresses: true });
  await h.mirror.track(remote(o));
  await assertRefused(
    h,
    await h.mirror.applyTagClaim(claim(o, "1.0", image)),
    /forbidden-address: .*127\.0\.0\.2, a loopback address/,
    `127.0.0.1_${o.port}/alice/app`,
  );
});

test("hostile origin: a slow origin times out", async () => {
  const o = await origin();
  const image = fakeImage("slow");
  o.add("alice/app", "1.0", image);
  o.hostile.silentManifests = true;
  const h = await harness({ syncOnTrack: false, timeoutMs: 300 });
  await h.mirror.track(remote(o));
  await assertRefused(
    h,
    await h.mirror.applyTagClaim(claim(o, "1.0", image)),
    /^timeout/,
    `127.0.0.1_${o.port}/alice/app`,
  );
});

test("a claim for a repository not tracked, or not the one tracked, is refused", async () => {
  const o = await origin();
  const image = fakeImage("x");
  o.add("alice/app", "1.0", image);
  const h = await harness({ syncOnTrack: false });
  await assertRefused(
    h,
    await h.mirror.applyTagClaim(claim(o, "1.0", image)),
    /not tracked here/,
    `127.0.0.1_${o.port}/alice/app`,
  );
  await h.mirror.track(remote(o));
  const other = claim(o, "1.0", image, { repository: { ...remote(o), name: "alice/other" } });
  const result = await h.mirror.applyTagClaim(other);
  assert.equal(result.ok, false);
  assert.match((result as { reason: string }).reason, /another repository/);
  assert.equal(o.seen.length, 0, "nothing was fetched for refused claims");
});

test("track refuses a taken local namespace, an actor on another host, a bad registry URL", async () => {
  const o = await origin();
  const h = await harness({ taken: [`127.0.0.1_${o.port}`] });
  const taken = await h.mirror.track(remote(o));
  assert.equal(taken.ok, false);
  assert.match((taken as { reason: string }).reason, /local user or organization/);
  const h2 = await harness();
  const elsewhere = await h2.mirror.track({
    ...remote(o),
    actorId: "https://other.example/users/x",
  });
  assert.match((elsewhere as { reason: string }).reason, /different hosts/);
  const bad = await h2.mirror.track({ ...remote(o), registryUrl: "ftp://example.org" });
  assert.match((bad as { reason: string }).reason, /http or https/);
  assert.deepEqual(await h2.mirror.list(), []);
});

test("tag deletion, older claims ignored, untrack removes the repository", async () => {
  const o = await origin();
  const first = fakeImage("first");
  const second = fakeImage("second");
  o.add("alice/app", "1.0", first);
  o.add("alice/app", "old", second);
  const h = await harness({ syncOnTrack: false });
  await h.mirror.track(remote(o));
  const localName = `127.0.0.1_${o.port}/alice/app`;
  assert.equal((await h.mirror.applyTagClaim(claim(o, "1.0", first))).ok, true);
  const older = await h.mirror.applyTagClaim(
    claim(o, "1.0", second, { published: new Date(Date.now() - 60_000) }),
  );
  assert.deepEqual(older, { ok: true, localName, tags: 0 });
  assert.equal((await h.registry.manifests.get(localName, "1.0")).digest, first.digest);

  const deleted = await h.mirror.applyTagDeletion(remote(o), "1.0", {
    activityId: `${o.url}/delete/1`,
  });
  assert.equal(deleted.ok, true);
  assert.deepEqual(await h.meta.listTags(localName, { limit: 10 }), []);
  assert.equal(h.store.tagEvidence(localName, "1.0"), undefined);

  await h.mirror.untrack(remote(o).actorId);
  assert.equal(await h.mirror.isTracked(remote(o).actorId), false);
  assert.equal(await h.meta.repositoryExists(localName), false);
  assert.deepEqual(await h.mirror.list(), []);
});

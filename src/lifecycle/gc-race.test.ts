/**
 * GC racing pushes. The worst interleavings are forced by running one side inside a hook of the
 * other; then both run freely, many times, and the invariant is checked: no tag points at nothing,
 * no blob the metadata reports lacks its bytes.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  errorCode,
  expectBlob,
  pushBlob,
  pushImage,
  putManifest,
  sha256,
} from "../http/test-support.ts";
import { mediaTypes } from "../registry/index.ts";
import { hour, type LifecycleFixture, lifecycleFixture } from "./test-fixture.ts";
import type { BlobFiles } from "./types.ts";

/** Wraps BlobFiles so a test can act right before or after a file is moved aside. */
function hooked(hooks: {
  before?: (digest: string) => Promise<void>;
  after?: (digest: string) => Promise<void>;
}) {
  return (files: BlobFiles): BlobFiles => ({
    list: () => files.list(),
    stat: (digest) => files.stat(digest),
    restore: (digest, token) => files.restore(digest, token),
    discard: (token) => files.discard(token),
    leftAside: () => files.leftAside(),
    uploadFiles: () => files.uploadFiles(),
    deleteUploadFile: (id) => files.deleteUploadFile(id),
    async moveAside(digest) {
      await hooks.before?.(digest);
      const token = await files.moveAside(digest);
      await hooks.after?.(digest);
      return token;
    },
  });
}

/** Every blob row, link and manifest has its bytes; every tag resolves to a manifest. */
async function assertConsistent(t: LifecycleFixture): Promise<void> {
  const snapshot = await t.store.gcSnapshot();
  const missing: string[] = [];
  for (const b of snapshot.blobs)
    if (!(await t.blobs.stat(b.digest))) missing.push(`blob ${b.digest}`);
  for (const m of snapshot.manifests) {
    if (!(await t.blobs.stat(m.digest))) missing.push(`manifest ${m.repository}@${m.digest}`);
  }
  for (const tag of snapshot.tags) {
    if (!snapshot.manifests.some((m) => m.repository === tag.repository && m.digest === tag.digest))
      missing.push(`tag ${tag.repository}:${tag.name}`);
  }
  assert.deepEqual(missing, []);
}

describe("GC racing pushes", () => {
  it("an upload of the same bytes while the file is aside ends with the blob present", async () => {
    const content = "raced layer";
    let t!: LifecycleFixture;
    let armed = true;
    t = await lifecycleFixture({
      wrapFiles: hooked({
        after: async (digest) => {
          if (!armed || digest !== sha256(content)) return;
          armed = false;
          await pushBlob(t.app, "carol/app", content);
        },
      }),
    });
    await pushBlob(t.app, "alice/app", content);
    t.advance(2 * hour);
    const run = await t.lifecycle.collect();
    assert.equal(armed, false, "the hook ran");
    assert.equal(run.kept, 1, "the recheck kept it");
    await expectBlob(t.app, "carol/app", sha256(content), content);
    await assertConsistent(t);
  });

  it("an upload that found the file in place (and dropped its own copy) keeps it", async () => {
    const content = "found in place";
    let t!: LifecycleFixture;
    let armed = true;
    t = await lifecycleFixture({
      wrapFiles: hooked({
        before: async (digest) => {
          if (!armed || digest !== sha256(content)) return;
          armed = false;
          await pushBlob(t.app, "carol/app", content);
        },
      }),
    });
    await pushBlob(t.app, "alice/app", content);
    t.advance(2 * hour);
    await t.lifecycle.collect();
    assert.equal(armed, false);
    await expectBlob(t.app, "carol/app", sha256(content), content);
    assert.deepEqual(t.purged, []);
    await assertConsistent(t);
  });

  it("a manifest pushed while GC takes its unnamed bytes writes them again", async () => {
    const t = await lifecycleFixture();
    const image = await pushImage(t.app, "alice/app", { tag: "v1" });
    // Another image keeps the blobs; only the manifest's own bytes become garbage.
    await pushImage(t.app, "alice/app", { tag: "other", annotations: { n: "2" } });
    // The manifest is deleted; its bytes stay as an unnamed file until a run.
    assert.equal(
      (await t.app.request(`/v2/alice/app/manifests/${image.digest}`, { method: "DELETE" })).status,
      202,
    );
    t.advance(2 * hour);
    const putBlob = t.blobs.putBlob.bind(t.blobs);
    let raced = false;
    t.blobs.putBlob = async (digest, bytes) => {
      await putBlob(digest, bytes); // finds the old file and does nothing
      if (digest === image.digest && !raced) {
        raced = true;
        const run = await t.lifecycle.collect(); // takes the file: no row names it yet
        assert.equal(run.files, 1);
      }
    };
    const res = await putManifest(t.app, "alice/app", "v1", image.bytes);
    assert.equal(res.status, 201);
    assert.ok(raced);
    const pulled = await t.app.request("/v2/alice/app/manifests/v1", {
      headers: { Accept: mediaTypes.ociManifest },
    });
    assert.equal(pulled.status, 200);
    assert.deepEqual(new Uint8Array(await pulled.arrayBuffer()), image.bytes);
    await assertConsistent(t);
  });

  it("a manifest whose blob GC unlinked after the push checked it is refused, not stored dangling", async () => {
    const t = await lifecycleFixture();
    const layer = await pushBlob(t.app, "alice/app", "layer:lonely");
    const config = await pushBlob(
      t.app,
      "alice/app",
      "{}",
      "application/vnd.oci.image.config.v1+json",
    );
    t.advance(2 * hour);
    const putManifestRows = t.meta.putManifest.bind(t.meta);
    t.meta.putManifest = async (...args) => {
      await t.lifecycle.collect(); // the blobs are still unreferenced: links and bytes go
      return putManifestRows(...args);
    };
    const manifest = {
      schemaVersion: 2,
      mediaType: mediaTypes.ociManifest,
      config,
      layers: [layer],
    };
    const res = await putManifest(t.app, "alice/app", "v1", manifest);
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), "MANIFEST_BLOB_UNKNOWN");
    t.meta.putManifest = putManifestRows;
    assert.equal(await t.meta.resolveTag("alice/app", "v1"), undefined);
    await assertConsistent(t);
    // The client uploads again and succeeds.
    await pushBlob(t.app, "alice/app", "layer:lonely");
    await pushBlob(t.app, "alice/app", "{}", "application/vnd.oci.image.config.v1+json");
    assert.equal((await putManifest(t.app, "alice/app", "v1", manifest)).status, 201);
    await assertConsistent(t);
  });

  it("runs freely against pushes, re-pushes and deletions and keeps the metadata and bytes consistent", async () => {
    const t = await lifecycleFixture({ deleteUntagged: true, graceMinutes: 0 });
    t.advance(1); // the grace window is 0: everything older than now is fair game
    const rounds = 12;
    const pushes = (async () => {
      for (let i = 0; i < rounds; i++) {
        const content = `layer-${i % 4}`; // the same bytes come back again and again
        // With no grace window a sweep may take a blob between its upload and the manifest;
        // the push is then refused (MANIFEST_BLOB_UNKNOWN) and a client pushes again, as here.
        await pushRetrying(() =>
          pushImage(t.app, `alice/app${i % 3}`, { tag: `t${i % 5}`, layerContent: content }),
        );
        if (i % 4 === 3) {
          await t.app.request(`/v2/alice/app${i % 3}/manifests/t${i % 5}`, { method: "DELETE" });
        }
        await pushBlob(t.app, "bob/scratch", `scratch-${i % 2}`);
      }
    })();
    const collections = (async () => {
      let runs = 0;
      for (let i = 0; i < rounds; i++) {
        await t.lifecycle.collect().then(
          () => runs++,
          (error) => assert.equal(error.code, "UNAVAILABLE"),
        );
        await new Promise((resolve) => setImmediate(resolve));
      }
      return runs;
    })();
    const [, runs] = await Promise.all([pushes, collections]);
    assert.ok(runs > 0);
    await assertConsistent(t);
    // Every tag still pulls, with every blob it names.
    for (const tag of (await t.store.gcSnapshot()).tags) {
      const res = await t.app.request(`/v2/${tag.repository}/manifests/${tag.name}`, {
        headers: { Accept: mediaTypes.ociManifest },
      });
      assert.equal(res.status, 200, `${tag.repository}:${tag.name}`);
      const json = (await res.json()) as {
        layers: Array<{ digest: string }>;
        config: { digest: string };
      };
      for (const d of [json.config.digest, ...json.layers.map((l) => l.digest)]) {
        const blob = await t.app.request(`/v2/${tag.repository}/blobs/${d}`, { method: "HEAD" });
        assert.equal(blob.status, 200, `${tag.repository} ${d}`);
      }
    }
  });
});

async function pushRetrying(push: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await push();
      return;
    } catch (error) {
      if (attempt >= 5 || !String(error).includes("MANIFEST_BLOB_UNKNOWN")) throw error;
    }
  }
}

/** GC's mark and sweep rules against a real registry on temporary stores. */
import assert from "node:assert/strict";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  expectBlob,
  pushBlob,
  pushImage,
  pushIndex,
  putManifest,
  sha256,
} from "../http/test-support.ts";
import { mediaTypes } from "../registry/index.ts";
import { hour, lifecycleFixture } from "./test-fixture.ts";

describe("garbage collection", () => {
  it("removes a blob no manifest refers to, after the grace window, and a dry run changes nothing", async () => {
    const t = await lifecycleFixture();
    const image = await pushImage(t.app, "alice/app", { tag: "v1" });
    const stray = await pushBlob(t.app, "alice/app", "never in a manifest");

    const young = await t.lifecycle.collect();
    assert.equal(young.blobs + young.links + young.files, 0, "inside the grace window");

    t.advance(2 * hour);
    const dry = await t.lifecycle.collect({ dryRun: true });
    assert.equal(dry.dryRun, true);
    assert.equal(dry.links, 1);
    assert.equal(dry.blobs, 1);
    assert.equal(dry.bytesFreed, stray.size);
    assert.deepEqual(
      dry.items.map((i) => [i.kind, i.digest]),
      [
        ["link", stray.digest],
        ["blob", stray.digest],
      ],
    );
    assert.ok(await t.blobs.stat(stray.digest), "dry run left the bytes");
    assert.equal(await t.meta.linkedBlobSize("alice/app", stray.digest), stray.size);

    const run = await t.lifecycle.collect();
    assert.equal(run.blobs, 1);
    assert.equal(run.bytesFreed, stray.size);
    assert.equal(await t.blobs.stat(stray.digest), undefined);
    assert.equal(await t.meta.blobSize(stray.digest), undefined);
    assert.deepEqual(t.purged, [stray.digest]);
    // The image is untouched and still pulls.
    const manifest = await t.app.request("/v2/alice/app/manifests/v1", {
      headers: { Accept: mediaTypes.ociManifest },
    });
    assert.equal(manifest.status, 200);
    assert.equal(manifest.headers.get("docker-content-digest"), image.digest);
    await expectBlob(t.app, "alice/app", sha256("layer:base"), "layer:base");
    assert.equal((await t.lifecycle.runs()).length, 3);
  });

  it("keeps a blob another repository's manifest refers to, and each repository's own links", async () => {
    const t = await lifecycleFixture();
    await pushImage(t.app, "alice/app", { tag: "v1", layerContent: "shared" });
    // bob uploads the same layer but never pushes a manifest: only bob's link goes.
    const layer = await pushBlob(t.app, "bob/app", "layer:shared");
    t.advance(2 * hour);
    const run = await t.lifecycle.collect();
    assert.equal(run.links, 1);
    assert.equal(run.blobs, 0);
    assert.equal(await t.meta.linkedBlobSize("bob/app", layer.digest), undefined);
    assert.ok(await t.blobs.stat(layer.digest));
    await expectBlob(t.app, "alice/app", layer.digest, "layer:shared");
  });

  it("deletes untagged manifests only when configured, keeping index children and referrers", async () => {
    const t = await lifecycleFixture({ deleteUntagged: true });
    const name = "alice/multi";
    const amd = await pushImage(t.app, name, { layerContent: "amd64" });
    const arm = await pushImage(t.app, name, { layerContent: "arm64" });
    const index = await pushIndex(t.app, name, [amd.descriptor, arm.descriptor], { tag: "v1" });
    const signature = await pushImage(t.app, name, {
      layerContent: "signature",
      artifactType: "application/example.sig",
      subject: index.descriptor,
    });
    const orphan = await pushImage(t.app, name, { layerContent: "orphan" });
    const orphanSig = await pushImage(t.app, name, {
      layerContent: "orphan-sig",
      subject: orphan.descriptor,
    });
    const young = await t.lifecycle.collect();
    assert.equal(young.manifests, 0, "untagged but inside the grace window");
    t.advance(2 * hour);
    const run = await t.lifecycle.collect();
    const gone = run.items.filter((i) => i.kind === "manifest").map((i) => i.digest);
    assert.deepEqual(gone.sort(), [orphan.digest, orphanSig.digest].sort());
    for (const kept of [amd, arm, index, signature]) {
      assert.ok(await t.meta.getManifest(name, kept.digest), `kept ${kept.digest}`);
      assert.ok(await t.blobs.stat(kept.digest), "its bytes too");
    }
    await expectBlob(t.app, name, sha256("layer:arm64"), "layer:arm64");
    await expectBlob(t.app, name, sha256("layer:signature"), "layer:signature");
    assert.equal(await t.blobs.stat(sha256("layer:orphan")), undefined);
    assert.equal(await t.blobs.stat(orphan.digest), undefined, "the manifest's own bytes");
    assert.equal(await t.blobs.stat(orphanSig.digest), undefined);
    const res = await t.app.request(`/v2/${name}/manifests/${orphan.digest}`);
    assert.equal(res.status, 404);
  });

  it("keeps untagged manifests by default", async () => {
    const t = await lifecycleFixture();
    const untagged = await pushImage(t.app, "alice/app", { layerContent: "x" });
    t.advance(2 * hour);
    const run = await t.lifecycle.collect();
    assert.equal(run.manifests + run.blobs + run.files, 0);
    assert.ok(await t.meta.getManifest("alice/app", untagged.digest));
  });

  it("keeps what a mirror-style manifest refers to, present or not, and never fails on missing bytes", async () => {
    const t = await lifecycleFixture({ deleteUntagged: true });
    const absent = sha256("never fetched");
    const linkedAbsent = sha256("linked, bytes not here yet");
    await t.meta.linkBlob("remote.example/alice/app", linkedAbsent, 26);
    await t.meta.putManifest(
      {
        repository: "remote.example/alice/app",
        digest: sha256("manifest"),
        mediaType: mediaTypes.ociManifest,
        size: 8,
      },
      [
        { digest: absent, kind: "blob" },
        { digest: linkedAbsent, kind: "blob" },
      ],
      "latest",
    );
    // And a pin by CID: links are all there is, no manifest rows.
    const pinned = await pushBlob(t.app, "ipfs/bafyexample", "pinned layer");
    t.advance(2 * hour);
    const run = await t.lifecycle.collect();
    assert.equal(run.manifests + run.links + run.blobs + run.files, 0, JSON.stringify(run.items));
    assert.equal(await t.meta.linkedBlobSize("remote.example/alice/app", linkedAbsent), 26);
    assert.ok(await t.blobs.stat(pinned.digest));
  });

  it("keeps a digest an upload in flight is committing as, and young files", async () => {
    const t = await lifecycleFixture();
    const bytes = new TextEncoder().encode("committing now");
    const digest = sha256(bytes);
    await t.blobs.putBlob(digest, bytes);
    await t.meta.createUpload({
      id: "u1",
      repository: "alice/app",
      createdAt: 1,
      updatedAt: Date.now(),
    });
    await t.meta.markUploadDigest("u1", digest);
    const fresh = new TextEncoder().encode("written a moment ago");
    await t.blobs.putBlob(sha256(fresh), fresh);
    const young = await t.lifecycle.collect();
    assert.equal(young.files, 0, "grace window");
    t.advance(2 * hour);
    const run = await t.lifecycle.collect();
    assert.deepEqual(
      run.items.map((i) => [i.kind, i.digest]),
      [["file", sha256(fresh)]],
      "the unnamed file goes, the one being uploaded stays",
    );
    assert.ok(await t.blobs.stat(digest));
  });

  it("expires stale uploads", async () => {
    const t = await lifecycleFixture();
    const res = await t.app.request("/v2/alice/app/blobs/uploads/", { method: "POST" });
    assert.equal(res.status, 202);
    t.advance(25 * hour);
    const dry = await t.lifecycle.collect({ dryRun: true });
    assert.equal(dry.uploads, 1);
    const run = await t.lifecycle.collect();
    assert.equal(run.uploads, 1);
    const location = res.headers.get("location") ?? "";
    assert.equal((await t.app.request(location)).status, 404);
  });

  it("removes upload files no upload record names, once they are older than the expiry", async () => {
    const t = await lifecycleFixture();
    await writeFile(join(t.root, "uploads", "put-123-crashed"), "half a manifest");
    const live = await t.app.request("/v2/alice/app/blobs/uploads/", { method: "POST" });
    assert.equal(live.status, 202);
    t.advance(2 * hour);
    assert.equal((await t.lifecycle.collect()).uploads, 0, "younger than the upload expiry");
    t.advance(24 * hour);
    const dry = await t.lifecycle.collect({ dryRun: true });
    assert.equal(dry.uploads, 2, "the stale upload and the orphan file");
    const run = await t.lifecycle.collect();
    assert.equal(run.uploads, 2);
    assert.deepEqual(await readdir(join(t.root, "uploads")), []);
  });

  it("puts back files a killed run left aside when something still names them", async () => {
    const t = await lifecycleFixture();
    const kept = await pushBlob(t.app, "alice/app", "still linked");
    const unnamed = new TextEncoder().encode("nobody");
    await t.blobs.putBlob(sha256(unnamed), unnamed);
    const token1 = await t.files.moveAside(kept.digest);
    const token2 = await t.files.moveAside(sha256(unnamed));
    assert.ok(token1 && token2);
    assert.equal(await t.blobs.stat(kept.digest), undefined);
    assert.equal(await t.lifecycle.gc.recover(), 2);
    await expectBlob(t.app, "alice/app", kept.digest, "still linked");
    assert.equal(await t.blobs.stat(sha256(unnamed)), undefined);
  });

  it("refuses a second run while one is going on", async () => {
    const t = await lifecycleFixture();
    const first = t.lifecycle.collect();
    await assert.rejects(t.lifecycle.collect(), { code: "UNAVAILABLE" });
    await first;
  });

  it("drops a deleted manifest from the cache: its digest no longer pulls", async () => {
    const t = await lifecycleFixture({ deleteUntagged: true });
    const image = await pushImage(t.app, "alice/app", { layerContent: "cached" });
    const before = await t.app.request(`/v2/alice/app/manifests/${image.digest}`);
    assert.equal(before.status, 200);
    t.advance(2 * hour);
    await t.lifecycle.collect();
    const after = await putManifest(t.app, "alice/app", "again", image.bytes);
    assert.equal(after.status, 400, "its blobs are gone too: MANIFEST_BLOB_UNKNOWN");
    const res = await t.app.request(`/v2/alice/app/manifests/${image.digest}`);
    assert.equal(res.status, 404);
  });
});

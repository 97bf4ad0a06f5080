/** The shared LifecycleStore test suite; every implementation runs it with its MetaStore. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { LifecycleStore } from "./lifecycle-types.ts";
import type { MetaStore } from "./types.ts";

const d = (n: number) => `sha256:${n.toString(16).padStart(64, "0")}`;
const later = () => Date.now() + 60_000;

export function runLifecycleStoreSuite(
  name: string,
  factory: () => Promise<{ meta: MetaStore; store: LifecycleStore }>,
): void {
  describe(`LifecycleStore: ${name}`, () => {
    it("takes a snapshot of manifests, references, tags, links, blobs and uploads in flight", async () => {
      const { meta, store } = await factory();
      await meta.linkBlob("a/app", d(1), 10);
      await meta.putManifest(
        { repository: "a/app", digest: d(2), mediaType: "m", size: 3, subject: d(9) },
        [{ digest: d(1), kind: "blob" }],
        "v1",
      );
      await meta.createUpload({ id: "u1", repository: "a/app", createdAt: 1, updatedAt: 1 });
      await meta.markUploadDigest("u1", d(7));
      const s = await store.gcSnapshot();
      assert.deepEqual(
        s.manifests.map((m) => [m.repository, m.digest, m.subject]),
        [["a/app", d(2), d(9)]],
      );
      assert.deepEqual(s.references, [
        { repository: "a/app", parent: d(2), child: d(1), kind: "blob" },
      ]);
      assert.deepEqual(
        s.tags.map((t) => [t.name, t.digest]),
        [["v1", d(2)]],
      );
      assert.deepEqual(
        s.links.map((l) => [l.repository, l.digest]),
        [["a/app", d(1)]],
      );
      assert.deepEqual(
        s.blobs.map((b) => [b.digest, b.size]),
        [[d(1), 10]],
      );
      assert.deepEqual(s.uploadDigests, [d(7)]);
      await meta.close();
    });

    it("deletes a manifest only while nothing keeps it", async () => {
      const { meta, store } = await factory();
      const base = { repository: "a/app", mediaType: "m", size: 1 };
      await meta.putManifest({ ...base, digest: d(1) }, [], "v1");
      await meta.putManifest({ ...base, digest: d(2) }, []);
      await meta.putManifest({ ...base, digest: d(3) }, [{ digest: d(2), kind: "manifest" }]);
      await meta.putManifest({ ...base, digest: d(4), subject: d(1) }, []);
      assert.equal(await store.deleteManifestIfUnkept("a/app", d(1), later()), false, "tagged");
      assert.equal(await store.deleteManifestIfUnkept("a/app", d(2), later()), false, "child");
      assert.equal(await store.deleteManifestIfUnkept("a/app", d(4), later()), false, "referrer");
      assert.equal(await store.deleteManifestIfUnkept("a/app", d(3), 0), false, "too young");
      assert.equal(await store.deleteManifestIfUnkept("a/app", d(3), later()), true);
      assert.equal(await store.deleteManifestIfUnkept("a/app", d(2), later()), true);
      assert.equal(await meta.deleteTag("a/app", "v1"), d(1));
      assert.equal(await store.deleteManifestIfUnkept("a/app", d(1), later()), true);
      assert.equal(await store.deleteManifestIfUnkept("a/app", d(4), later()), true);
      assert.equal(await store.deleteManifestIfUnkept("a/app", d(4), later()), false, "gone");
      await meta.close();
    });

    it("unlinks and deletes blobs only while nothing refers to them", async () => {
      const { meta, store } = await factory();
      await meta.linkBlob("a/app", d(1), 10);
      await meta.linkBlob("b/app", d(1), 10);
      await meta.putManifest({ repository: "a/app", digest: d(2), mediaType: "m", size: 1 }, [
        { digest: d(1), kind: "blob" },
      ]);
      assert.equal(await store.unlinkBlobIfUnreferenced("a/app", d(1), later()), false);
      assert.equal(await store.unlinkBlobIfUnreferenced("b/app", d(1), 0), false, "young");
      assert.equal(await store.unlinkBlobIfUnreferenced("b/app", d(1), later()), true);
      assert.equal(await store.deleteBlobIfUnreferenced(d(1), later()), false, "linked");
      await meta.deleteManifest("a/app", d(2));
      assert.equal(await store.unlinkBlobIfUnreferenced("a/app", d(1), later()), true);
      assert.equal(await store.digestInUse(d(1)), true, "the row is still there");
      await meta.createUpload({ id: "u", repository: "c/app", createdAt: 1, updatedAt: 1 });
      await meta.markUploadDigest("u", d(1));
      assert.equal(await store.deleteBlobIfUnreferenced(d(1), later()), false, "uploading");
      await meta.deleteUpload("u");
      assert.equal(await store.deleteBlobIfUnreferenced(d(1), 0), false, "young");
      assert.equal(await store.deleteBlobIfUnreferenced(d(1), later()), true);
      assert.equal(await store.digestInUse(d(1)), false);
      await meta.putManifest({ repository: "m/x", digest: d(5), mediaType: "m", size: 1 }, [
        { digest: d(6), kind: "blob" },
      ]);
      assert.equal(await store.digestInUse(d(5)), true, "a manifest");
      assert.equal(await store.digestInUse(d(6)), true, "referred to, never linked (mirror)");
      await meta.close();
    });

    it("deletes a tag only if it still points where retention saw it", async () => {
      const { meta, store } = await factory();
      const base = { repository: "a/app", mediaType: "m", size: 1 };
      await meta.putManifest({ ...base, digest: d(1) }, [], "old");
      await meta.putManifest({ ...base, digest: d(2) }, [], "new");
      const tags = await store.listTagRecords("a/app");
      assert.deepEqual(tags.map((t) => t.name).sort(), ["new", "old"]);
      await meta.putManifest({ ...base, digest: d(3) }, [], "old");
      assert.equal(await store.deleteTagIf("a/app", "old", d(1)), false, "moved meanwhile");
      assert.equal(await store.deleteTagIf("a/app", "new", d(2)), true);
      assert.deepEqual(await store.allRepositories(), ["a/app"]);
      await meta.close();
    });

    it("counts each blob once per namespace and links within the quota", async () => {
      const { meta, store } = await factory();
      await meta.linkBlob("alice/a", d(1), 100);
      await meta.linkBlob("alice/b", d(1), 100);
      await meta.linkBlob("alice/b/deep", d(2), 50);
      await meta.linkBlob("alice_x/a", d(3), 7);
      await meta.linkBlob("alicex/a", d(4), 9);
      assert.equal(await store.namespaceUsage("alice"), 150);
      assert.equal(await store.namespaceUsage("alice_x"), 7);
      assert.equal(await store.namespaceUsage("nobody"), 0);
      assert.deepEqual(await store.allNamespaceUsage(), [
        { namespace: "alice", bytes: 150 },
        { namespace: "alice_x", bytes: 7 },
        { namespace: "alicex", bytes: 9 },
      ]);
      assert.equal(await store.namespaceHasBlob("alice", d(2)), true);
      assert.equal(await store.namespaceHasBlob("alice", d(3)), false);
      assert.equal(await store.getQuota("alice"), undefined);
      await store.setQuota("alice", 200);
      assert.deepEqual(await store.listQuotas(), [{ namespace: "alice", bytes: 200 }]);
      assert.deepEqual(await store.linkBlobWithinQuota("alice/c", "alice", d(5), 51), {
        ok: false,
        used: 201,
        limit: 200,
      });
      assert.equal(await meta.linkedBlobSize("alice/c", d(5)), undefined);
      assert.deepEqual(await store.linkBlobWithinQuota("alice/c", "alice", d(1), 100), {
        ok: true,
      });
      assert.deepEqual(await store.linkBlobWithinQuota("alice/c", "alice", d(5), 50), { ok: true });
      assert.equal(await store.namespaceUsage("alice"), 200);
      await store.setQuota("alice", undefined);
      assert.equal(await store.getQuota("alice"), undefined);
      await meta.close();
    });

    it("records runs, newest first", async () => {
      const { meta, store } = await factory();
      const run = {
        kind: "gc" as const,
        trigger: "cli",
        dryRun: true,
        startedAt: 1,
        finishedAt: 2,
      };
      await store.recordRun({ ...run, report: { blobs: 1 } });
      await store.recordRun({ ...run, kind: "retention", report: { tags: 2 }, error: "boom" });
      const runs = await store.listRuns(10);
      assert.deepEqual(
        runs.map((r) => [r.kind, r.report, r.error]),
        [
          ["retention", { tags: 2 }, "boom"],
          ["gc", { blobs: 1 }, undefined],
        ],
      );
      assert.equal((await store.listRuns(1)).length, 1);
      await meta.close();
    });
  });
}

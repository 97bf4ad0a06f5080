/** The shared MetaStore test suite; every implementation runs it. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type MetaStore, MissingBlobLinkError } from "./types.ts";

const d = (n: number) => `sha256:${n.toString(16).padStart(64, "0")}`;

export function runMetaStoreSuite(name: string, factory: () => Promise<MetaStore>): void {
  describe(`MetaStore: ${name}`, () => {
    it("links blobs per repository", async () => {
      const meta = await factory();
      await meta.linkBlob("a/app", d(1), 10);
      assert.equal(await meta.linkedBlobSize("a/app", d(1)), 10);
      assert.equal(await meta.linkedBlobSize("b/app", d(1)), undefined);
      await meta.linkBlob("b/app", d(1), 10);
      assert.deepEqual(await meta.repositoriesWithBlob(d(1), 10), ["a/app", "b/app"]);
      assert.equal(await meta.unlinkBlob("b/app", d(1)), true);
      assert.equal(await meta.blobSize(d(1)), 10);
      assert.equal(await meta.unlinkBlob("a/app", d(1)), true);
      assert.equal(await meta.unlinkBlob("a/app", d(1)), false);
      assert.equal(await meta.linkedBlobSize("a/app", d(1)), undefined);
      assert.equal(await meta.blobSize(d(1)), 10);
      await meta.close();
    });

    it("stores manifests with tags, moves tags and deletes by digest", async () => {
      const meta = await factory();
      const record = { repository: "a/app", digest: d(2), mediaType: "m", size: 5 };
      assert.deepEqual(await meta.putManifest(record, [{ digest: d(1), kind: "blob" }], "v1"), {});
      assert.equal(await meta.resolveTag("a/app", "v1"), d(2));
      const moved = await meta.putManifest({ ...record, digest: d(3) }, [], "v1");
      assert.deepEqual(moved, { previousDigest: d(2) });
      await meta.putManifest({ ...record, digest: d(3) }, [], "v2");
      assert.deepEqual(await meta.listTags("a/app", { limit: 10 }), ["v1", "v2"]);
      assert.deepEqual(await meta.listTags("a/app", { limit: 1, last: "v1" }), ["v2"]);
      assert.deepEqual((await meta.deleteManifest("a/app", d(3)))?.sort(), ["v1", "v2"]);
      assert.equal(await meta.resolveTag("a/app", "v1"), undefined);
      assert.equal(await meta.deleteManifest("a/app", d(3)), undefined);
      assert.equal((await meta.getManifest("a/app", d(2)))?.mediaType, "m");
      assert.equal(await meta.deleteTag("a/app", "nope"), undefined);
      await meta.close();
    });

    it("finds the manifest that refers to a blob", async () => {
      const meta = await factory();
      const record = { repository: "a/app", digest: d(21), mediaType: "m", size: 5 };
      await meta.putManifest(record, [
        { digest: d(22), kind: "blob" },
        { digest: d(23), kind: "manifest" },
      ]);
      assert.equal(await meta.referencedBlob("a/app", d(22)), d(21));
      assert.equal(await meta.referencedBlob("b/app", d(22)), undefined);
      assert.equal(await meta.referencedBlob("a/app", d(23)), undefined);
      await meta.deleteManifest("a/app", d(21));
      assert.equal(await meta.referencedBlob("a/app", d(22)), undefined);
      await meta.close();
    });

    it("lists referrers of a subject", async () => {
      const meta = await factory();
      const base = { repository: "a/app", mediaType: "m", size: 1 };
      await meta.putManifest({ ...base, digest: d(5) }, []);
      await meta.putManifest(
        { ...base, digest: d(6), subject: d(5), artifactType: "x", annotations: { k: "v" } },
        [],
      );
      const referrers = await meta.listReferrers("a/app", d(5));
      assert.equal(referrers.length, 1);
      assert.equal(referrers[0]?.artifactType, "x");
      assert.deepEqual(referrers[0]?.annotations, { k: "v" });
      assert.deepEqual(await meta.listReferrers("b/app", d(5)), []);
      await meta.close();
    });

    it("pages the catalog", async () => {
      const meta = await factory();
      for (const name of ["c/x", "a/x", "b/x"]) await meta.ensureRepository(name);
      assert.deepEqual(await meta.listRepositories({ limit: 2 }), ["a/x", "b/x"]);
      assert.deepEqual(await meta.listRepositories({ limit: 2, last: "b/x" }), ["c/x"]);
      assert.equal(await meta.repositoryExists("a/x"), true);
      assert.equal(await meta.repositoryExists("z/x"), false);
      await meta.linkBlob("c/x", d(9), 1);
      await meta.putManifest(
        { repository: "c/x", digest: d(10), mediaType: "m", size: 1 },
        [],
        "t",
      );
      assert.equal(await meta.deleteRepository("c/x"), true);
      assert.equal(await meta.repositoryExists("c/x"), false);
      assert.equal(await meta.linkedBlobSize("c/x", d(9)), undefined);
      assert.equal(await meta.resolveTag("c/x", "t"), undefined);
      assert.equal(await meta.deleteRepository("c/x"), false);
      await meta.close();
    });

    it("refuses a manifest whose blob was unlinked, when asked to require links", async () => {
      const meta = await factory();
      const record = { repository: "a/app", digest: d(31), mediaType: "m", size: 5 };
      const refs = [{ digest: d(32), kind: "blob" as const }];
      await assert.rejects(
        meta.putManifest(record, refs, "v1", { requireLinkedBlobs: true }),
        (error: Error) => error instanceof MissingBlobLinkError && error.message.includes(d(32)),
      );
      assert.equal(await meta.getManifest("a/app", d(31)), undefined);
      assert.equal(await meta.resolveTag("a/app", "v1"), undefined);
      await meta.linkBlob("a/app", d(32), 3);
      await meta.putManifest(record, refs, "v1", { requireLinkedBlobs: true });
      assert.equal(await meta.resolveTag("a/app", "v1"), d(31));
      // Without the option (mirrors), references need no link.
      await meta.putManifest({ ...record, digest: d(33) }, [{ digest: d(34), kind: "blob" }]);
      assert.equal((await meta.getManifest("a/app", d(33)))?.digest, d(33));
      await meta.close();
    });

    it("records the digest an upload commits as", async () => {
      const meta = await factory();
      await meta.createUpload({ id: "u", repository: "a/x", createdAt: 1, updatedAt: 1 });
      await meta.markUploadDigest("u", d(40));
      assert.equal((await meta.getUpload("u"))?.repository, "a/x");
      await meta.markUploadDigest("nope", d(40));
      await meta.close();
    });

    it("tracks uploads", async () => {
      const meta = await factory();
      await meta.createUpload({ id: "u", repository: "a/x", createdAt: 1, updatedAt: 1 });
      assert.equal((await meta.getUpload("u"))?.repository, "a/x");
      assert.equal((await meta.uploadsUpdatedBefore(2)).length, 1);
      await meta.touchUpload("u", 5);
      assert.equal((await meta.uploadsUpdatedBefore(2)).length, 0);
      await meta.deleteUpload("u");
      assert.equal(await meta.getUpload("u"), undefined);
      assert.deepEqual(await meta.check(), []);
      await meta.close();
    });
  });
}

/** The shared BlobStore test suite; every implementation runs it. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { describe, it } from "node:test";
import { BlobNotFoundError, type BlobStore } from "./types.ts";

function digestOf(value: string): string {
  return `sha256:${createHash("sha256").update(value).digest("hex")}`;
}

export function runBlobStoreSuite(name: string, factory: () => Promise<BlobStore>): void {
  describe(`BlobStore: ${name}`, () => {
    it("appends, commits and reads back an upload", async () => {
      const store = await factory();
      await store.createUpload("u1");
      assert.equal(await store.uploadSize("u1"), 0);
      assert.equal(await store.appendUpload("u1", Readable.from([Buffer.from("hello ")])), 6);
      assert.equal(await store.appendUpload("u1", Readable.from([Buffer.from("world")])), 5);
      assert.equal(await store.uploadSize("u1"), 11);
      assert.equal(await text(store.readUpload("u1")), "hello world");
      const digest = digestOf("hello world");
      assert.equal(await store.stat(digest), undefined);
      await store.commitUpload("u1", digest);
      assert.deepEqual(await store.stat(digest), { size: 11 });
      assert.equal(await store.uploadSize("u1"), undefined);
      assert.equal(await text(await store.open(digest)), "hello world");
      assert.equal(await text(await store.open(digest, { start: 6, end: 10 })), "world");
      await store.close();
    });

    it("keeps the bytes that arrived before a source fails", async () => {
      const store = await factory();
      await store.createUpload("u2");
      const failing = new Readable({
        read() {
          this.push(Buffer.from("partial"));
          this.destroy(new Error("client went away"));
        },
      });
      await assert.rejects(store.appendUpload("u2", failing));
      const size = await store.uploadSize("u2");
      assert.ok(size !== undefined && size <= 7);
      assert.equal(await text(store.readUpload("u2")), "partial".slice(0, size));
      await store.close();
    });

    it("commits a duplicate upload without touching the existing blob", async () => {
      const store = await factory();
      const digest = digestOf("same");
      await store.putBlob(digest, Buffer.from("same"));
      await store.createUpload("u3");
      await store.appendUpload("u3", Readable.from([Buffer.from("same")]));
      await store.commitUpload("u3", digest);
      assert.equal(await text(await store.open(digest)), "same");
      assert.equal(await store.uploadSize("u3"), undefined);
      await store.close();
    });

    it("reports missing blobs and lists and deletes committed ones", async () => {
      const store = await factory();
      const missing = digestOf("missing");
      assert.equal(await store.stat(missing), undefined);
      await assert.rejects(store.open(missing), BlobNotFoundError);
      const digest = digestOf("listed");
      await store.putBlob(digest, Buffer.from("listed"));
      const all: string[] = [];
      for await (const d of store.listBlobs()) all.push(d);
      assert.ok(all.includes(digest));
      await store.deleteBlob(digest);
      assert.equal(await store.stat(digest), undefined);
      await store.close();
    });

    it("refuses upload ids that could escape the upload area", async () => {
      const store = await factory();
      await assert.rejects(store.createUpload("../evil"));
      await assert.rejects(store.uploadSize("a/b"));
      await store.close();
    });
  });
}

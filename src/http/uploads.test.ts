import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  createTestRegistry,
  errorCode,
  expectBlob,
  expectError,
  sha256,
  sha512,
  startUpload,
  tempDir,
  withBody,
  withQuery,
} from "./test-support.ts";
import type { HttpApp } from "./types.ts";

const name = "alice/app";

function patch(app: HttpApp, location: string, body: string, range?: string) {
  return app.request(location, withBody("PATCH", body, range ? { "Content-Range": range } : {}));
}

/** PUT ?digest= finishing an upload, with an optional last chunk. */
function put(app: HttpApp, location: string, digest: string, body?: string) {
  const url = withQuery(location, `digest=${digest}`);
  return app.request(url, body === undefined ? { method: "PUT" } : withBody("PUT", body));
}

describe("starting an upload", () => {
  it("POST answers 202 with Location, Docker-Upload-UUID, Range and no body", async () => {
    const { app } = await createTestRegistry();
    for (const path of [`/v2/${name}/blobs/uploads/`, `/v2/${name}/blobs/uploads`]) {
      const res = await app.request(path, { method: "POST" });
      assert.equal(res.status, 202);
      const id = res.headers.get("Docker-Upload-UUID");
      assert.ok(id);
      assert.equal(res.headers.get("Location"), `/v2/${name}/blobs/uploads/${id}`);
      assert.equal(res.headers.get("Range"), "0-0");
      assert.equal(res.headers.get("Content-Length"), "0");
      assert.equal(await res.text(), "");
    }
  });

  it("monolithic POST ?digest= creates the blob: 201 with Location and Docker-Content-Digest", async () => {
    const { app } = await createTestRegistry();
    const digest = sha256("monolithic");
    const res = await app.request(
      `/v2/${name}/blobs/uploads/?digest=${digest}`,
      withBody("POST", "monolithic"),
    );
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("Location"), `/v2/${name}/blobs/${digest}`);
    assert.equal(res.headers.get("Docker-Content-Digest"), digest);
    await expectBlob(app, name, digest, "monolithic");
  });

  it("monolithic POST with a wrong digest is DIGEST_INVALID and stores nothing", async () => {
    const { app } = await createTestRegistry();
    const digest = sha256("other");
    const res = await app.request(
      `/v2/${name}/blobs/uploads/?digest=${digest}`,
      withBody("POST", "bytes"),
    );
    await expectError(res, 400, "DIGEST_INVALID");
    await expectError(app.request(`/v2/${name}/blobs/${digest}`), 404, "BLOB_UNKNOWN");
    await expectError(app.request(`/v2/${name}/blobs/${sha256("bytes")}`), 404, "BLOB_UNKNOWN");
  });

  it("rejects an unsupported algorithm (md5) with DIGEST_INVALID", async () => {
    const { app } = await createTestRegistry();
    const md5 = "md5:5d41402abc4b2a76b9719d911017c592";
    const res = await app.request(
      `/v2/${name}/blobs/uploads/?digest=${md5}`,
      withBody("POST", "hello"),
    );
    await expectError(res, 400, "DIGEST_INVALID");
  });
});

describe("POST then PUT", () => {
  it("PUT with the whole body commits the blob", async () => {
    const { app } = await createTestRegistry();
    const location = await startUpload(app, name);
    const digest = sha256("put body");
    const res = await put(app, location, digest, "put body");
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("Location"), `/v2/${name}/blobs/${digest}`);
    assert.equal(res.headers.get("Docker-Content-Digest"), digest);
    await expectBlob(app, name, digest, "put body");
    // The upload is finished and gone.
    await expectError(app.request(location), 404, "BLOB_UPLOAD_UNKNOWN");
  });

  it("PUT with a wrong digest: DIGEST_INVALID, the blob is not visible and the upload is gone", async () => {
    const { app } = await createTestRegistry();
    const location = await startUpload(app, name);
    const wrong = sha256("something else");
    const res = await put(app, location, wrong, "content");
    await expectError(res, 400, "DIGEST_INVALID");
    await expectError(app.request(`/v2/${name}/blobs/${wrong}`), 404, "BLOB_UNKNOWN");
    await expectError(app.request(`/v2/${name}/blobs/${sha256("content")}`), 404, "BLOB_UNKNOWN");
    await expectError(app.request(location), 404, "BLOB_UPLOAD_UNKNOWN");
  });

  it("PUT with an md5 digest or none at all is refused", async () => {
    const { app } = await createTestRegistry();
    const location = await startUpload(app, name);
    const md5 = await app.request(
      withQuery(location, "digest=md5:5d41402abc4b2a76b9719d911017c592"),
      {
        method: "PUT",
      },
    );
    await expectError(md5, 400, "DIGEST_INVALID");
    const none = await app.request(location, { method: "PUT" });
    assert.equal(none.status, 400);
    assert.ok(["BLOB_UPLOAD_INVALID", "DIGEST_INVALID"].includes(await errorCode(none)));
  });

  it("sha512 digests work for POST+PUT", async () => {
    const { app } = await createTestRegistry();
    const location = await startUpload(app, name);
    assert.equal((await patch(app, location, "sha512 ")).status, 202);
    const digest = sha512("sha512 content");
    const res = await put(app, location, digest, "content");
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("Docker-Content-Digest"), digest);
    await expectBlob(app, name, digest, "sha512 content");
  });
});

describe("chunked uploads", () => {
  it("PATCH chunks with Content-Range, status via GET, then PUT without a body", async () => {
    const { app } = await createTestRegistry();
    const location = await startUpload(app, name);
    const first = await patch(app, location, "hello ", "0-5");
    assert.equal(first.status, 202);
    assert.equal(first.headers.get("Range"), "0-5");
    assert.ok(first.headers.get("Location"));
    assert.ok(first.headers.get("Docker-Upload-UUID"));
    const second = await app.request(
      first.headers.get("Location") ?? location,
      withBody("PATCH", "world", { "Content-Range": "bytes 6-10/11" }),
    );
    assert.equal(second.status, 202);
    assert.equal(second.headers.get("Range"), "0-10");

    const status = await app.request(location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get("Range"), "0-10");
    assert.equal(status.headers.get("Docker-Upload-UUID"), location.split("/").at(-1));

    const digest = sha256("hello world");
    const done = await put(app, location, digest);
    assert.equal(done.status, 201);
    await expectBlob(app, name, digest, "hello world");
  });

  it("an out-of-order chunk is 416 RANGE_INVALID with Range showing the current offset", async () => {
    const { app } = await createTestRegistry();
    const location = await startUpload(app, name);
    await patch(app, location, "abcd", "0-3");
    const res = await patch(app, location, "xyz", "10-12");
    await expectError(res, 416, "RANGE_INVALID");
    assert.equal(res.headers.get("Range"), "0-3");
    assert.ok(res.headers.get("Location"));
    // A repeated chunk is out of order as well, and nothing was appended.
    const again = await patch(app, location, "abcd", "0-3");
    await expectError(again, 416, "RANGE_INVALID");
    assert.equal((await app.request(location)).headers.get("Range"), "0-3");
  });

  it("PATCH without Content-Range streams and appends", async () => {
    const { app } = await createTestRegistry();
    const location = await startUpload(app, name);
    for (const part of ["one ", "two ", "three"]) {
      const res = await app.request(location, { method: "PATCH", body: part });
      assert.equal(res.status, 202);
    }
    assert.equal((await app.request(location)).headers.get("Range"), "0-12");
    const digest = sha256("one two three");
    const done = await put(app, location, digest);
    assert.equal(done.status, 201);
    await expectBlob(app, name, digest, "one two three");
  });

  it("PUT carrying the last chunk with Content-Range commits everything", async () => {
    const { app } = await createTestRegistry();
    const location = await startUpload(app, name);
    await patch(app, location, "first,", "0-5");
    const digest = sha256("first,last");
    const done = await app.request(
      withQuery(location, `digest=${digest}`),
      withBody("PUT", "last", { "Content-Range": "6-9" }),
    );
    assert.equal(done.status, 201);
    await expectBlob(app, name, digest, "first,last");
  });

  it("garbage Content-Range is 400 BLOB_UPLOAD_INVALID", async () => {
    const { app } = await createTestRegistry();
    const location = await startUpload(app, name);
    for (const range of ["garbage", "5-2", "bytes=a-b", "-1-4", "0-"]) {
      const res = await app.request(
        location,
        withBody("PATCH", "data", { "Content-Range": range }),
      );
      await expectError(res, 400, "BLOB_UPLOAD_INVALID");
    }
    const status = await app.request(location);
    assert.equal(status.headers.get("Range"), "0-0");
  });

  it("garbage Content-Length is 400 BLOB_UPLOAD_INVALID", async () => {
    const { app } = await createTestRegistry();
    const location = await startUpload(app, name);
    const res = await app.request(location, {
      method: "PATCH",
      body: "data",
      headers: { "Content-Length": "four" },
    });
    await expectError(res, 400, "BLOB_UPLOAD_INVALID");
  });

  it("Content-Range and Content-Length that disagree are refused", async () => {
    const { app } = await createTestRegistry();
    const location = await startUpload(app, name);
    const res = await app.request(location, {
      method: "PATCH",
      body: "data",
      headers: { "Content-Range": "0-9", "Content-Length": "4" },
    });
    assert.ok(res.status === 400 || res.status === 416, `status ${res.status}`);
    const code = await errorCode(res);
    assert.ok(["BLOB_UPLOAD_INVALID", "RANGE_INVALID", "SIZE_INVALID"].includes(code), code);
    // The refused chunk left the upload empty.
    assert.equal((await app.request(location)).headers.get("Range"), "0-0");
  });

  it("a chunk shorter than its Content-Range is refused", async () => {
    const { app } = await createTestRegistry();
    const location = await startUpload(app, name);
    const res = await app.request(location, {
      method: "PATCH",
      body: "data",
      headers: { "Content-Range": "0-9" },
    });
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), "BLOB_UPLOAD_INVALID");
  });
});

describe("upload lifecycle", () => {
  it("DELETE cancels: 204, then GET is 404 BLOB_UPLOAD_UNKNOWN", async () => {
    const { app } = await createTestRegistry();
    const location = await startUpload(app, name);
    await patch(app, location, "partial");
    const res = await app.request(location, { method: "DELETE" });
    assert.equal(res.status, 204);
    await expectError(app.request(location), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectError(patch(app, location, "more"), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectError(app.request(location, { method: "DELETE" }), 404, "BLOB_UPLOAD_UNKNOWN");
  });

  it("an upload id used under another repository is 404 BLOB_UPLOAD_UNKNOWN", async () => {
    const { app } = await createTestRegistry();
    const location = await startUpload(app, name);
    const id = location.split("/").at(-1) ?? "";
    const elsewhere = `/v2/bob/other/blobs/uploads/${id}`;
    await expectError(app.request(elsewhere), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectError(app.request(elsewhere, withBody("PATCH", "x")), 404, "BLOB_UPLOAD_UNKNOWN");
    const put = await app.request(`${elsewhere}?digest=${sha256("")}`, { method: "PUT" });
    await expectError(put, 404, "BLOB_UPLOAD_UNKNOWN");
    await expectError(app.request(elsewhere, { method: "DELETE" }), 404, "BLOB_UPLOAD_UNKNOWN");
    // The real upload is untouched.
    assert.equal((await app.request(location)).status, 204);
  });

  it("unknown and malformed upload ids are 404 BLOB_UPLOAD_UNKNOWN", async () => {
    const { app } = await createTestRegistry();
    for (const id of ["00000000-0000-0000-0000-000000000000", "x!y", "a".repeat(300)]) {
      await expectError(app.request(`/v2/${name}/blobs/uploads/${id}`), 404, "BLOB_UPLOAD_UNKNOWN");
    }
  });
});

describe("resuming after a restart", () => {
  it("a new registry on the same directory and database continues the upload", async () => {
    const root = await tempDir();
    const metaPath = join(root, "meta.db");
    const first = await createTestRegistry({ root, metaPath });
    const location = await startUpload(first.app, name);
    assert.equal((await patch(first.app, location, "before restart|", "0-14")).status, 202);
    await first.meta.close();

    const second = await createTestRegistry({ root, metaPath });
    const status = await second.app.request(location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get("Range"), "0-14");
    assert.equal((await patch(second.app, location, "after", "15-19")).status, 202);
    const digest = sha256("before restart|after");
    const done = await put(second.app, location, digest);
    assert.equal(done.status, 201);
    await expectBlob(second.app, name, digest, "before restart|after");
    await second.meta.close();
  });
});

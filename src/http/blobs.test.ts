import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  createTestRegistry,
  expectBlob,
  expectError,
  pushBlob,
  sha256,
  sha512,
  type TestRegistry,
  withBody,
} from "./test-support.ts";

const content = "0123456789abcdefghij"; // 20 bytes
const name = "alice/app";

describe("GET /v2/", () => {
  it("answers 200 with an empty JSON object and the API version header", async () => {
    const { app } = await createTestRegistry();
    for (const path of ["/v2/", "/v2"]) {
      const res = await app.request(path);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("Docker-Distribution-API-Version"), "registry/2.0");
      assert.match(res.headers.get("Content-Type") ?? "", /^application\/json/);
      assert.deepEqual(await res.json(), {});
    }
  });
});

describe("blob downloads", () => {
  let t: TestRegistry;
  let digest: string;
  before(async () => {
    t = await createTestRegistry();
    digest = (await pushBlob(t.app, name, content)).digest;
  });

  it("GET returns the bytes with digest, length and ETag headers", async () => {
    const res = await t.app.request(`/v2/${name}/blobs/${digest}`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), content);
    assert.equal(res.headers.get("Docker-Content-Digest"), digest);
    assert.equal(res.headers.get("Content-Length"), "20");
    assert.equal(res.headers.get("ETag"), `"${digest}"`);
    assert.equal(res.headers.get("Accept-Ranges"), "bytes");
    assert.equal(res.headers.get("Content-Type"), "application/octet-stream");
  });

  it("streamed responses carry Docker-Distribution-API-Version and X-Request-Id too", async () => {
    const url = `/v2/${name}/blobs/${digest}`;
    const requests: [string, RequestInit][] = [
      ["GET", {}],
      ["HEAD", { method: "HEAD" }],
      ["Range", { headers: { Range: "bytes=0-1" } }],
      ["If-None-Match", { headers: { "If-None-Match": `"${digest}"` } }],
    ];
    for (const [label, init] of requests) {
      const res = await t.app.request(url, init);
      await res.body?.cancel();
      assert.ok(res.status < 400, label);
      assert.equal(res.headers.get("Docker-Distribution-API-Version"), "registry/2.0", label);
      assert.ok(res.headers.get("X-Request-Id"), `${label}: X-Request-Id`);
    }
  });

  it("HEAD returns the headers and no body", async () => {
    const res = await t.app.request(`/v2/${name}/blobs/${digest}`, { method: "HEAD" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("Content-Length"), "20");
    assert.equal(res.headers.get("Docker-Content-Digest"), digest);
    assert.equal(await res.text(), "");
  });

  it("HEAD of an unknown blob is 404 without a body requirement", async () => {
    const res = await t.app.request(`/v2/${name}/blobs/${sha256("nope")}`, { method: "HEAD" });
    assert.equal(res.status, 404);
  });

  it("serves a byte range with 206 and Content-Range", async () => {
    const res = await t.app.request(`/v2/${name}/blobs/${digest}`, {
      headers: { Range: "bytes=2-5" },
    });
    assert.equal(res.status, 206);
    assert.equal(await res.text(), "2345");
    assert.equal(res.headers.get("Content-Range"), "bytes 2-5/20");
    assert.equal(res.headers.get("Content-Length"), "4");
    assert.equal(res.headers.get("Docker-Content-Digest"), digest);
  });

  it("serves open-ended, clamped and suffix ranges", async () => {
    const cases: [string, string, string][] = [
      ["bytes=15-", "fghij", "bytes 15-19/20"],
      ["bytes=18-100", "ij", "bytes 18-19/20"],
      ["bytes=-3", "hij", "bytes 17-19/20"],
      ["bytes=-50", content, "bytes 0-19/20"],
      ["bytes=0-0", "0", "bytes 0-0/20"],
    ];
    for (const [range, body, contentRange] of cases) {
      const res = await t.app.request(`/v2/${name}/blobs/${digest}`, { headers: { Range: range } });
      assert.equal(res.status, 206, range);
      assert.equal(await res.text(), body, range);
      assert.equal(res.headers.get("Content-Range"), contentRange, range);
      assert.equal(res.headers.get("Content-Length"), String(body.length), range);
    }
  });

  it("answers 416 with Content-Range bytes */size for an unsatisfiable range", async () => {
    for (const range of ["bytes=20-", "bytes=100-200", "bytes=-0"]) {
      const res = await t.app.request(`/v2/${name}/blobs/${digest}`, { headers: { Range: range } });
      await expectError(res, 416, "RANGE_INVALID");
      assert.equal(res.headers.get("Content-Range"), "bytes */20", range);
    }
  });

  it("ignores a garbage or multi-part Range and sends the whole blob", async () => {
    for (const range of [
      "garbage",
      "bytes=",
      "bytes=a-b",
      "items=0-1",
      "bytes=5-2",
      "bytes=0-1,3-4",
    ]) {
      const res = await t.app.request(`/v2/${name}/blobs/${digest}`, { headers: { Range: range } });
      assert.equal(res.status, 200, range);
      assert.equal(await res.text(), content, range);
      assert.equal(res.headers.get("Content-Range"), null, range);
    }
  });

  it("answers 304 to If-None-Match with the blob's ETag", async () => {
    const res = await t.app.request(`/v2/${name}/blobs/${digest}`, {
      headers: { "If-None-Match": `"${digest}"` },
    });
    assert.equal(res.status, 304);
    assert.equal(await res.text(), "");
    assert.equal(res.headers.get("ETag"), `"${digest}"`);
    const other = await t.app.request(`/v2/${name}/blobs/${digest}`, {
      headers: { "If-None-Match": '"sha256:other"' },
    });
    assert.equal(other.status, 200);
    await other.body?.cancel();
  });

  it("answers 404 BLOB_UNKNOWN for an unknown blob", async () => {
    const res = await t.app.request(`/v2/${name}/blobs/${sha256("unknown")}`);
    const error = await expectError(res, 404, "BLOB_UNKNOWN");
    assert.equal((error.detail as { digest: string }).digest, sha256("unknown"));
  });

  it("does not show a blob of another repository", async () => {
    await expectError(t.app.request(`/v2/bob/app/blobs/${digest}`), 404, "BLOB_UNKNOWN");
    const head = await t.app.request(`/v2/bob/app/blobs/${digest}`, { method: "HEAD" });
    assert.equal(head.status, 404);
  });

  it("answers 400 DIGEST_INVALID for a malformed or unsupported digest", async () => {
    for (const bad of [
      "sha256:abc",
      "md5:d41d8cd98f00b204e9800998ecf8427e",
      "notadigest",
      "sha256:XYZ",
    ]) {
      await expectError(t.app.request(`/v2/${name}/blobs/${bad}`), 400, "DIGEST_INVALID");
    }
  });
});

describe("blob delete", () => {
  it("unlinks the blob: 202, then GET is 404 BLOB_UNKNOWN, a second DELETE is 404", async () => {
    const { app } = await createTestRegistry();
    const { digest } = await pushBlob(app, name, "to delete");
    await pushBlob(app, "other/app", "to delete");
    const res = await app.request(`/v2/${name}/blobs/${digest}`, { method: "DELETE" });
    assert.equal(res.status, 202);
    await expectError(app.request(`/v2/${name}/blobs/${digest}`), 404, "BLOB_UNKNOWN");
    await expectError(
      app.request(`/v2/${name}/blobs/${digest}`, { method: "DELETE" }),
      404,
      "BLOB_UNKNOWN",
    );
    // The same bytes linked elsewhere stay readable there.
    const other = await app.request(`/v2/other/app/blobs/${digest}`);
    assert.equal(other.status, 200);
    assert.equal(await other.text(), "to delete");
  });

  it("answers DIGEST_INVALID for a malformed digest", async () => {
    const { app } = await createTestRegistry();
    await expectError(
      app.request(`/v2/${name}/blobs/sha256:zz`, { method: "DELETE" }),
      400,
      "DIGEST_INVALID",
    );
  });
});

describe("sha512 blobs", () => {
  it("are uploaded, served and ranged by their sha512 digest", async () => {
    const { app } = await createTestRegistry();
    const digest = sha512(content);
    const put = await app.request(
      `/v2/${name}/blobs/uploads/?digest=${digest}`,
      withBody("POST", content),
    );
    assert.equal(put.status, 201);
    assert.equal(put.headers.get("Docker-Content-Digest"), digest);
    const res = await app.request(`/v2/${name}/blobs/${digest}`, {
      headers: { Range: "bytes=-2" },
    });
    assert.equal(res.status, 206);
    assert.equal(await res.text(), "ij");
    assert.equal(res.headers.get("Docker-Content-Digest"), digest);
  });
});

describe("empty blobs", () => {
  it("serve zero bytes; any range on them is unsatisfiable", async () => {
    const { app } = await createTestRegistry();
    const { digest } = await pushBlob(app, name, "");
    const res = await app.request(`/v2/${name}/blobs/${digest}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("Content-Length"), "0");
    assert.equal(await res.text(), "");
    const ranged = await app.request(`/v2/${name}/blobs/${digest}`, {
      headers: { Range: "bytes=0-" },
    });
    await expectError(ranged, 416, "RANGE_INVALID");
    assert.equal(ranged.headers.get("Content-Range"), "bytes */0");
  });
});

describe("cross-repository mount", () => {
  it("with from= answers 201 and links the blob", async () => {
    const { app } = await createTestRegistry();
    const { digest } = await pushBlob(app, "source/repo", "shared layer");
    const res = await app.request(`/v2/${name}/blobs/uploads/?mount=${digest}&from=source/repo`, {
      method: "POST",
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("Location"), `/v2/${name}/blobs/${digest}`);
    assert.equal(res.headers.get("Docker-Content-Digest"), digest);
    await expectBlob(app, name, digest, "shared layer");
  });

  it("without from= answers 201 when the registry holds the blob anywhere", async () => {
    const { app } = await createTestRegistry();
    const { digest } = await pushBlob(app, "source/repo", "anywhere");
    const res = await app.request(`/v2/${name}/blobs/uploads/?mount=${digest}`, { method: "POST" });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("Docker-Content-Digest"), digest);
    await expectBlob(app, name, digest, "anywhere");
  });

  it("of an unknown blob, or from a repository without it, falls back to a 202 upload", async () => {
    const { app } = await createTestRegistry();
    const { digest } = await pushBlob(app, "source/repo", "elsewhere");
    const cases = [
      `?mount=${sha256("never pushed")}&from=source/repo`,
      `?mount=${sha256("never pushed")}`,
      `?mount=${digest}&from=empty/repo`,
    ];
    for (const query of cases) {
      const res = await app.request(`/v2/${name}/blobs/uploads/${query}`, { method: "POST" });
      assert.equal(res.status, 202, query);
      assert.ok(res.headers.get("Location")?.startsWith(`/v2/${name}/blobs/uploads/`), query);
      assert.ok(res.headers.get("Docker-Upload-UUID"), query);
    }
    await expectError(app.request(`/v2/${name}/blobs/${digest}`), 404, "BLOB_UNKNOWN");
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mediaTypes } from "../registry/index.ts";
import {
  bytesOf,
  createTestRegistry,
  errorCode,
  expectError,
  imageManifest,
  pushImage,
  pushIndex,
  putManifest,
  sha256,
  sha512,
} from "./test-support.ts";

const name = "alice/app";
const dockerTypes = `${mediaTypes.dockerManifest}, ${mediaTypes.dockerManifestList}`;

describe("manifest push", () => {
  it("PUT by tag answers 201 with Location and Docker-Content-Digest", async () => {
    const { app } = await createTestRegistry();
    const manifest = await imageManifest(app, name);
    const bytes = bytesOf(JSON.stringify(manifest));
    const res = await putManifest(app, name, "v1", bytes);
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("Docker-Content-Digest"), sha256(bytes));
    assert.equal(res.headers.get("Location"), `/v2/${name}/manifests/${sha256(bytes)}`);
    assert.equal(res.headers.get("OCI-Subject"), null);
  });

  it("PUT by digest answers 201 and the manifest is reachable by that digest", async () => {
    const { app } = await createTestRegistry();
    const pushed = await pushImage(app, name);
    const res = await app.request(`/v2/${name}/manifests/${pushed.digest}`);
    assert.equal(res.status, 200);
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), pushed.bytes);
  });

  it("PUT by a sha512 digest stores and serves it under that digest", async () => {
    const { app } = await createTestRegistry();
    const bytes = bytesOf(JSON.stringify(await imageManifest(app, name)));
    const res = await putManifest(app, name, sha512(bytes), bytes);
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("Docker-Content-Digest"), sha512(bytes));
    const got = await app.request(`/v2/${name}/manifests/${sha512(bytes)}`);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get("Docker-Content-Digest"), sha512(bytes));
  });

  it("PUT by a digest that does not match the body is DIGEST_INVALID", async () => {
    const { app } = await createTestRegistry();
    const manifest = await imageManifest(app, name);
    const res = await putManifest(app, name, sha256("not this"), manifest);
    await expectError(res, 400, "DIGEST_INVALID");
    await expectError(
      app.request(`/v2/${name}/manifests/${sha256("not this")}`),
      404,
      "MANIFEST_UNKNOWN",
    );
  });

  it("a missing layer or config is 400 MANIFEST_BLOB_UNKNOWN", async () => {
    const { app } = await createTestRegistry();
    const manifest = await imageManifest(app, name);
    const missing = {
      mediaType: "application/vnd.oci.image.layer.v1.tar",
      digest: sha256("gone"),
      size: 4,
    };
    const layer = { ...manifest, layers: [...manifest.layers, missing] };
    const config = {
      ...manifest,
      config: { ...missing, mediaType: "application/vnd.oci.image.config.v1+json" },
    };
    for (const body of [layer, config]) {
      const error = await expectError(
        putManifest(app, name, "x", body),
        400,
        "MANIFEST_BLOB_UNKNOWN",
      );
      assert.equal((error.detail as { digest: string }).digest, missing.digest);
    }
    // Nothing was tagged.
    await expectError(app.request(`/v2/${name}/manifests/x`), 404, "MANIFEST_UNKNOWN");
  });

  it("a blob of another repository counts as missing", async () => {
    const { app } = await createTestRegistry();
    const manifest = await imageManifest(app, "other/repo");
    await expectError(putManifest(app, name, "x", manifest), 400, "MANIFEST_BLOB_UNKNOWN");
  });

  it("a descriptor whose size disagrees with the blob is MANIFEST_INVALID", async () => {
    const { app } = await createTestRegistry();
    const manifest = await imageManifest(app, name);
    const layer = manifest.layers[0];
    assert.ok(layer);
    const wrong = { ...manifest, layers: [{ ...layer, size: layer.size + 1 }] };
    await expectError(putManifest(app, name, "x", wrong), 400, "MANIFEST_INVALID");
  });

  it("an index with a missing child is MANIFEST_BLOB_UNKNOWN", async () => {
    const { app } = await createTestRegistry();
    const child = await pushImage(app, name);
    const index = {
      schemaVersion: 2,
      mediaType: mediaTypes.ociIndex,
      manifests: [child.descriptor, { ...child.descriptor, digest: sha256("no such manifest") }],
    };
    await expectError(
      putManifest(app, name, "idx", index, mediaTypes.ociIndex),
      400,
      "MANIFEST_BLOB_UNKNOWN",
    );
  });

  it("an invalid tag is 400", async () => {
    const { app } = await createTestRegistry();
    const manifest = await imageManifest(app, name);
    for (const tag of [".hidden", "-dash", "t".repeat(129), "bad!tag"]) {
      const res = await putManifest(app, name, tag, manifest);
      assert.equal(res.status, 400, tag);
      const code = await errorCode(res);
      assert.ok(
        ["MANIFEST_INVALID", "TAG_INVALID", "NAME_INVALID"].includes(code),
        `${tag}: ${code}`,
      );
    }
    assert.equal((await putManifest(app, name, `_${"t".repeat(127)}`, manifest)).status, 201);
  });

  it("an oversized manifest is 413 SIZE_INVALID", async () => {
    const { app } = await createTestRegistry({ maxManifestBytes: 512 });
    const manifest = await imageManifest(app, name, { annotations: { pad: "x".repeat(600) } });
    const res = await putManifest(app, name, "big", manifest);
    await expectError(res, 413, "SIZE_INVALID");
    // Without a Content-Length the limit still applies while reading.
    const streamed = await app.request(`/v2/${name}/manifests/big`, {
      method: "PUT",
      body: JSON.stringify(manifest),
      headers: { "Content-Type": mediaTypes.ociManifest },
    });
    await expectError(streamed, 413, "SIZE_INVALID");
  });
});

describe("manifest pull", () => {
  it("GET by tag and digest returns body, Content-Type, digest, length and ETag", async () => {
    const { app } = await createTestRegistry();
    const pushed = await pushImage(app, name, { tag: "latest" });
    for (const ref of ["latest", pushed.digest]) {
      const res = await app.request(`/v2/${name}/manifests/${ref}`);
      assert.equal(res.status, 200, ref);
      assert.equal(res.headers.get("Content-Type"), mediaTypes.ociManifest);
      assert.equal(res.headers.get("Docker-Content-Digest"), pushed.digest);
      assert.equal(res.headers.get("Content-Length"), String(pushed.bytes.byteLength));
      assert.equal(res.headers.get("ETag"), `"${pushed.digest}"`);
      assert.deepEqual(new Uint8Array(await res.arrayBuffer()), pushed.bytes);
    }
  });

  it("HEAD returns the same headers without a body", async () => {
    const { app } = await createTestRegistry();
    const pushed = await pushImage(app, name, { tag: "latest" });
    const res = await app.request(`/v2/${name}/manifests/latest`, { method: "HEAD" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("Docker-Content-Digest"), pushed.digest);
    assert.equal(res.headers.get("Content-Length"), String(pushed.bytes.byteLength));
    assert.equal(res.headers.get("Content-Type"), mediaTypes.ociManifest);
    assert.equal(await res.text(), "");
    const missing = await app.request(`/v2/${name}/manifests/nope`, { method: "HEAD" });
    assert.equal(missing.status, 404);
  });

  it("If-None-Match with the ETag answers 304", async () => {
    const { app } = await createTestRegistry();
    const pushed = await pushImage(app, name, { tag: "latest" });
    const res = await app.request(`/v2/${name}/manifests/latest`, {
      headers: { "If-None-Match": `"${pushed.digest}"` },
    });
    assert.equal(res.status, 304);
    assert.equal(await res.text(), "");
  });

  it("negotiates on Accept: Docker-only Accept hides an OCI manifest by tag", async () => {
    const { app } = await createTestRegistry();
    const pushed = await pushImage(app, name, { tag: "latest" });
    const url = `/v2/${name}/manifests/latest`;
    await expectError(
      app.request(url, { headers: { Accept: dockerTypes } }),
      404,
      "MANIFEST_UNKNOWN",
    );
    for (const accept of [
      undefined,
      "*/*",
      `${dockerTypes}, ${mediaTypes.ociManifest}`,
      "application/json",
    ]) {
      const res = await app.request(url, accept ? { headers: { Accept: accept } } : {});
      assert.equal(res.status, 200, String(accept));
      assert.equal(res.headers.get("Docker-Content-Digest"), pushed.digest);
    }
    const withParams = await app.request(url, {
      headers: { Accept: `${mediaTypes.ociManifest}; q=0.9, ${mediaTypes.dockerManifest}` },
    });
    assert.equal(withParams.status, 200);
  });

  it("round-trips a Docker v2 schema 2 manifest and manifest list with their media types", async () => {
    const { app } = await createTestRegistry();
    const image = await pushImage(app, name, {
      tag: "docker",
      mediaType: mediaTypes.dockerManifest,
    });
    const list = await pushIndex(
      app,
      name,
      [{ ...image.descriptor, platform: { architecture: "amd64", os: "linux" } }],
      { tag: "list", mediaType: mediaTypes.dockerManifestList },
    );
    for (const [tag, pushed, type] of [
      ["docker", image, mediaTypes.dockerManifest],
      ["list", list, mediaTypes.dockerManifestList],
    ] as const) {
      const res = await app.request(`/v2/${name}/manifests/${tag}`, {
        headers: { Accept: dockerTypes },
      });
      assert.equal(res.status, 200, tag);
      assert.equal(res.headers.get("Content-Type"), type);
      assert.equal(res.headers.get("Docker-Content-Digest"), pushed.digest);
      assert.deepEqual(new Uint8Array(await res.arrayBuffer()), pushed.bytes);
    }
  });

  it("an unknown tag or digest is 404 MANIFEST_UNKNOWN", async () => {
    const { app } = await createTestRegistry();
    await pushImage(app, name, { tag: "latest" });
    await expectError(app.request(`/v2/${name}/manifests/missing`), 404, "MANIFEST_UNKNOWN");
    await expectError(app.request(`/v2/${name}/manifests/${sha256("x")}`), 404, "MANIFEST_UNKNOWN");
    await expectError(app.request(`/v2/unknown/repo/manifests/latest`), 404, "MANIFEST_UNKNOWN");
  });

  it("a manifest of another repository is not visible by digest", async () => {
    const { app } = await createTestRegistry();
    const pushed = await pushImage(app, name, { tag: "latest" });
    await expectError(
      app.request(`/v2/other/repo/manifests/${pushed.digest}`),
      404,
      "MANIFEST_UNKNOWN",
    );
  });
});

describe("tags and deletion", () => {
  it("a tag moves to the manifest pushed last", async () => {
    const { app } = await createTestRegistry();
    const first = await pushImage(app, name, { tag: "latest", layerContent: "one" });
    const second = await pushImage(app, name, { tag: "latest", layerContent: "two" });
    assert.notEqual(first.digest, second.digest);
    const res = await app.request(`/v2/${name}/manifests/latest`);
    assert.equal(res.headers.get("Docker-Content-Digest"), second.digest);
    // The old manifest stays reachable by digest.
    assert.equal((await app.request(`/v2/${name}/manifests/${first.digest}`)).status, 200);
  });

  it("DELETE by tag removes only the tag", async () => {
    const { app } = await createTestRegistry();
    const pushed = await pushImage(app, name, { tag: "a" });
    await pushImage(app, name, { tag: "b", layerContent: "other" });
    const res = await app.request(`/v2/${name}/manifests/a`, { method: "DELETE" });
    assert.equal(res.status, 202);
    await expectError(app.request(`/v2/${name}/manifests/a`), 404, "MANIFEST_UNKNOWN");
    assert.equal((await app.request(`/v2/${name}/manifests/b`)).status, 200);
    assert.equal((await app.request(`/v2/${name}/manifests/${pushed.digest}`)).status, 200);
    await expectError(
      app.request(`/v2/${name}/manifests/a`, { method: "DELETE" }),
      404,
      "MANIFEST_UNKNOWN",
    );
  });

  it("DELETE by digest removes the manifest and every tag on it", async () => {
    const { app } = await createTestRegistry();
    const pushed = await pushImage(app, name, { tag: "a" });
    await pushImage(app, name, { tag: "b", layerContent: "other" });
    const tagged = await putManifest(app, name, "c", pushed.bytes);
    assert.equal(tagged.status, 201);
    const res = await app.request(`/v2/${name}/manifests/${pushed.digest}`, { method: "DELETE" });
    assert.equal(res.status, 202);
    await expectError(
      app.request(`/v2/${name}/manifests/${pushed.digest}`),
      404,
      "MANIFEST_UNKNOWN",
    );
    await expectError(app.request(`/v2/${name}/manifests/a`), 404, "MANIFEST_UNKNOWN");
    await expectError(app.request(`/v2/${name}/manifests/c`), 404, "MANIFEST_UNKNOWN");
    const list = (await (await app.request(`/v2/${name}/tags/list`)).json()) as { tags: string[] };
    assert.deepEqual(list.tags, ["b"]);
    await expectError(
      app.request(`/v2/${name}/manifests/${pushed.digest}`, { method: "DELETE" }),
      404,
      "MANIFEST_UNKNOWN",
    );
  });

  it("a deleted manifest can be pushed again", async () => {
    const { app } = await createTestRegistry();
    const pushed = await pushImage(app, name, { tag: "a" });
    await app.request(`/v2/${name}/manifests/${pushed.digest}`, { method: "DELETE" });
    assert.equal((await putManifest(app, name, "a", pushed.bytes)).status, 201);
    assert.equal((await app.request(`/v2/${name}/manifests/a`)).status, 200);
  });
});

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { ManifestInvalidError } from "./errors.ts";
import { parseManifest } from "./manifest-parser.ts";
import { mediaTypes } from "./media-types.ts";

const digest = (seed: string) => `sha256:${createHash("sha256").update(seed).digest("hex")}`;
const config = {
  mediaType: "application/vnd.oci.image.config.v1+json",
  digest: digest("c"),
  size: 2,
};
const layer = {
  mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
  digest: digest("l"),
  size: 3,
};
const image = { schemaVersion: 2, mediaType: mediaTypes.ociManifest, config, layers: [layer] };
const child = { mediaType: mediaTypes.ociManifest, digest: digest("m"), size: 400 };
const index = { schemaVersion: 2, mediaType: mediaTypes.ociIndex, manifests: [child] };

const encode = (value: unknown) =>
  new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));
const parse = (value: unknown, contentType?: string) => parseManifest(encode(value), contentType);

function invalid(value: unknown, contentType: string | undefined, message?: RegExp) {
  assert.throws(
    () => parseManifest(value instanceof Uint8Array ? value : encode(value), contentType),
    (error: unknown) =>
      error instanceof ManifestInvalidError &&
      error.code === "MANIFEST_INVALID" &&
      error.status === 400 &&
      (message === undefined || message.test(error.message)),
    `${contentType}: ${String(JSON.stringify(value)).slice(0, 120)}`,
  );
}

describe("parseManifest: image manifests", () => {
  it("lists config and layers as required blobs; artifactType falls back to the config type", () => {
    const parsed = parse(image, mediaTypes.ociManifest);
    assert.equal(parsed.kind, "image");
    assert.equal(parsed.mediaType, mediaTypes.ociManifest);
    assert.deepEqual(parsed.blobs, [config, layer]);
    assert.deepEqual(parsed.manifests, []);
    assert.equal(parsed.artifactType, config.mediaType);
    assert.equal(parsed.subject, undefined);
  });

  it("keeps artifactType, subject and annotations", () => {
    const subject = { mediaType: mediaTypes.ociManifest, digest: digest("s"), size: 9 };
    const parsed = parse(
      { ...image, artifactType: "application/x-sbom", subject, annotations: { a: "b" } },
      mediaTypes.ociManifest,
    );
    assert.equal(parsed.artifactType, "application/x-sbom");
    assert.deepEqual(parsed.subject, subject);
    assert.deepEqual(parsed.annotations, { a: "b" });
  });

  it("takes the type from the body when Content-Type is generic or absent", () => {
    for (const contentType of [undefined, "", "application/json", "application/octet-stream"]) {
      assert.equal(parse(image, contentType).mediaType, mediaTypes.ociManifest);
      const docker = { ...image, mediaType: mediaTypes.dockerManifest };
      assert.equal(parse(docker, contentType).mediaType, mediaTypes.dockerManifest);
      const { mediaType: _omitted, ...untyped } = image;
      assert.equal(parse(untyped, contentType).mediaType, mediaTypes.ociManifest);
    }
  });

  it("ignores Content-Type parameters and case", () => {
    assert.equal(parse(image, `${mediaTypes.ociManifest}; charset=utf-8`).kind, "image");
    assert.equal(
      parse(image, mediaTypes.ociManifest.toUpperCase()).mediaType,
      mediaTypes.ociManifest,
    );
  });

  it("takes the Content-Type when the body has no mediaType", () => {
    const { mediaType: _omitted, ...untyped } = image;
    assert.equal(parse(untyped, mediaTypes.dockerManifest).mediaType, mediaTypes.dockerManifest);
  });

  it("does not require foreign layers that carry URLs", () => {
    const foreign = {
      mediaType: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
      digest: digest("f"),
      size: 10,
      urls: ["https://example.com/layer"],
    };
    const nondistributable = {
      ...foreign,
      mediaType: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
      digest: digest("n"),
    };
    const noUrls = { ...foreign, digest: digest("u"), urls: undefined };
    const parsed = parse(
      { ...image, layers: [layer, foreign, nondistributable, noUrls] },
      undefined,
    );
    assert.deepEqual(
      parsed.blobs.map((b) => b.digest),
      [config.digest, layer.digest, noUrls.digest],
    );
  });
});

describe("parseManifest: indexes", () => {
  it("lists children as required manifests", () => {
    const parsed = parse({ ...index, artifactType: "application/x-a" }, mediaTypes.ociIndex);
    assert.equal(parsed.kind, "index");
    assert.deepEqual(parsed.blobs, []);
    assert.deepEqual(parsed.manifests, [child]);
    assert.equal(parsed.artifactType, "application/x-a");
  });

  it("recognises Docker manifest lists and untyped indexes", () => {
    const list = { ...index, mediaType: mediaTypes.dockerManifestList };
    assert.equal(parse(list, mediaTypes.dockerManifestList).kind, "index");
    const { mediaType: _omitted, ...untyped } = index;
    assert.equal(parse(untyped, undefined).mediaType, mediaTypes.ociIndex);
    assert.equal(parse({ ...index, manifests: [] }, mediaTypes.ociIndex).manifests.length, 0);
  });
});

describe("parseManifest: invalid input is MANIFEST_INVALID", () => {
  it("malformed bytes, non-object JSON", () => {
    invalid("{", undefined, /JSON/);
    invalid("", mediaTypes.ociManifest, /JSON/);
    invalid(new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]), undefined, /UTF-8/);
    for (const json of ["[]", "null", "1", '"x"', "false"]) invalid(json, undefined, /object/);
  });

  it("schema 1 and unknown media types", () => {
    invalid({ ...image, schemaVersion: 1 }, undefined, /schema 1/);
    invalid(image, "application/vnd.docker.distribution.manifest.v1+json", /schema 1/);
    invalid(image, "application/vnd.docker.distribution.manifest.v1+prettyjws", /schema 1/);
    invalid(image, "text/plain", /unsupported/);
    invalid({ ...image, mediaType: "application/x-unknown" }, undefined, /unsupported/);
    invalid({ ...image, mediaType: 7 }, mediaTypes.ociIndex);
  });

  it("Content-Type contradicting the body's mediaType", () => {
    invalid(image, mediaTypes.dockerManifest, /does not match/);
    invalid(index, mediaTypes.ociManifest, /does not match/);
    const { mediaType: _omitted, ...untyped } = image;
    invalid(untyped, mediaTypes.ociIndex);
  });

  it("missing or mistyped fields", () => {
    const { config: _c, ...noConfig } = image;
    const { layers: _l, ...noLayers } = image;
    const { schemaVersion: _s, ...noVersion } = image;
    for (const body of [
      noConfig,
      noLayers,
      noVersion,
      { ...image, schemaVersion: "2" },
      { ...image, layers: null },
      { ...image, layers: [null] },
      { ...image, config: { ...config, mediaType: "" } },
      { ...image, config: { digest: config.digest, size: 2 } },
      { ...image, annotations: { a: 1 } },
      { ...image, annotations: [] },
      { ...image, subject: "sha256:x" },
      { ...image, artifactType: "x".repeat(256) },
      { ...image, layers: [{ ...layer, urls: "https://x" }] },
    ]) {
      invalid(body, mediaTypes.ociManifest);
    }
    invalid({ schemaVersion: 2, mediaType: mediaTypes.ociIndex }, undefined);
    invalid({ ...index, manifests: [{ ...child, platform: { os: "linux" } }] }, undefined);
  });

  it("bad digests and sizes in descriptors, with the field named", () => {
    for (const bad of ["sha256:abc", "md5:d41d8cd98f00b204e9800998ecf8427e", "", 1, null]) {
      invalid({ ...image, config: { ...config, digest: bad } }, undefined, /config\.digest/);
      invalid(
        { ...index, manifests: [{ ...child, digest: bad }] },
        undefined,
        /manifests\.0\.digest/,
      );
    }
    for (const size of [-1, 0.5, "3", Number.MAX_SAFE_INTEGER + 2, null]) {
      invalid({ ...image, layers: [{ ...layer, size }] }, undefined, /layers\.0\.size/);
    }
  });
});

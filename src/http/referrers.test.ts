import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { mediaTypes } from "../registry/index.ts";
import {
  createTestRegistry,
  type Descriptor,
  expectError,
  imageManifest,
  type PushedManifest,
  pushBlob,
  pushImage,
  pushIndex,
  putManifest,
  sha256,
  type TestRegistry,
} from "./test-support.ts";

const name = "alice/app";
const sbom = "application/vnd.example.sbom+json";
const signature = "application/vnd.example.signature";

interface ReferrersIndex {
  schemaVersion: number;
  mediaType: string;
  manifests: Descriptor[];
}

async function referrers(t: TestRegistry, digest: string, query = "") {
  const res = await t.app.request(`/v2/${name}/referrers/${digest}${query}`);
  assert.equal(res.status, 200, `referrers of ${digest}${query}`);
  assert.equal(res.headers.get("Content-Type"), mediaTypes.ociIndex);
  const body = (await res.json()) as ReferrersIndex;
  assert.equal(body.schemaVersion, 2);
  assert.equal(body.mediaType, mediaTypes.ociIndex);
  return { res, body };
}

function byDigest(list: Descriptor[]): Map<string, Descriptor> {
  return new Map(list.map((d) => [d.digest, d]));
}

describe("referrers", () => {
  let t: TestRegistry;
  let subject: PushedManifest;
  let withArtifactType: PushedManifest;
  let withConfigType: PushedManifest;
  let indexReferrer: PushedManifest;

  before(async () => {
    t = await createTestRegistry();
    subject = await pushImage(t.app, name, { tag: "latest" });
    const empty = await pushBlob(t.app, name, "{}", mediaTypes.ociEmpty);

    const sbomManifest = await imageManifest(t.app, name, {
      config: empty,
      artifactType: sbom,
      layerContent: "sbom",
      subject: subject.descriptor,
      annotations: { "org.opencontainers.image.created": "2025-01-01T00:00:00Z" },
    });
    const bytes = new TextEncoder().encode(JSON.stringify(sbomManifest));
    const res = await putManifest(t.app, name, sha256(bytes), bytes);
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("OCI-Subject"), subject.digest);
    const digest = sha256(bytes);
    const descriptor = { mediaType: mediaTypes.ociManifest, digest, size: bytes.byteLength };
    withArtifactType = { digest, bytes, descriptor };

    // No artifactType: the config media type stands in for it.
    withConfigType = await pushImage(t.app, name, {
      configMediaType: signature,
      layerContent: "signature",
      subject: subject.descriptor,
    });
    const other = await pushImage(t.app, name, { layerContent: "index child" });
    indexReferrer = await pushIndex(t.app, name, [other.descriptor], {
      subject: subject.descriptor,
      artifactType: sbom,
    });
  });

  it("a manifest with a subject is accepted with OCI-Subject, for index manifests too", async () => {
    const res = await putManifest(
      t.app,
      name,
      indexReferrer.digest,
      indexReferrer.bytes,
      mediaTypes.ociIndex,
    );
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("OCI-Subject"), subject.digest);
  });

  it("lists every referrer with media type, size, artifactType and annotations", async () => {
    const { res, body } = await referrers(t, subject.digest);
    assert.equal(res.headers.get("OCI-Filters-Applied"), null);
    const found = byDigest(body.manifests);
    assert.equal(found.size, 3);

    const sbomEntry = found.get(withArtifactType.digest);
    assert.ok(sbomEntry);
    assert.equal(sbomEntry.mediaType, mediaTypes.ociManifest);
    assert.equal(sbomEntry.size, withArtifactType.bytes.byteLength);
    assert.equal(sbomEntry.artifactType, sbom);
    assert.deepEqual(sbomEntry.annotations, {
      "org.opencontainers.image.created": "2025-01-01T00:00:00Z",
    });

    const signatureEntry = found.get(withConfigType.digest);
    assert.ok(signatureEntry);
    assert.equal(signatureEntry.artifactType, signature);
    assert.equal(signatureEntry.size, withConfigType.bytes.byteLength);

    const indexEntry = found.get(indexReferrer.digest);
    assert.ok(indexEntry);
    assert.equal(indexEntry.mediaType, mediaTypes.ociIndex);
    assert.equal(indexEntry.artifactType, sbom);
  });

  it("?artifactType= filters and says so in OCI-Filters-Applied", async () => {
    const { res, body } = await referrers(
      t,
      subject.digest,
      `?artifactType=${encodeURIComponent(sbom)}`,
    );
    assert.equal(res.headers.get("OCI-Filters-Applied"), "artifactType");
    assert.deepEqual(
      body.manifests.map((d) => d.digest).sort(),
      [withArtifactType.digest, indexReferrer.digest].sort(),
    );
    const none = await referrers(t, subject.digest, "?artifactType=application/x-nothing");
    assert.deepEqual(none.body.manifests, []);
    assert.equal(none.res.headers.get("OCI-Filters-Applied"), "artifactType");
  });

  it("an unknown subject, or one in another repository, has an empty list with 200", async () => {
    const { body } = await referrers(t, sha256("no such subject"));
    assert.deepEqual(body.manifests, []);
    const res = await t.app.request(`/v2/other/repo/referrers/${subject.digest}`);
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as ReferrersIndex).manifests, []);
  });

  it("a malformed digest is 400", async () => {
    for (const bad of ["sha256:123", "latest", "md5:5d41402abc4b2a76b9719d911017c592"]) {
      await expectError(t.app.request(`/v2/${name}/referrers/${bad}`), 400, "DIGEST_INVALID");
    }
  });
});

describe("referrers and the fallback tag schema", () => {
  it("merges the entries of an index tagged sha256-<hex> with pushed referrers", async () => {
    const t = await createTestRegistry();
    const subject = await pushImage(t.app, name, { tag: "latest" });
    const direct = await pushImage(t.app, name, {
      configMediaType: signature,
      layerContent: "direct",
      subject: subject.descriptor,
    });
    // A client without referrers support pushes the artifact without subject, then the tag index.
    const legacy = await pushImage(t.app, name, { configMediaType: sbom, layerContent: "legacy" });
    const tag = subject.digest.replace(":", "-");
    await pushIndex(
      t.app,
      name,
      [
        { ...legacy.descriptor, artifactType: sbom, annotations: { from: "fallback" } },
        { ...direct.descriptor, artifactType: signature },
      ],
      { tag },
    );

    const { body } = await referrers(t, subject.digest);
    const found = byDigest(body.manifests);
    assert.equal(found.size, 2, "a referrer listed both ways appears once");
    assert.equal(found.get(legacy.digest)?.artifactType, sbom);
    assert.deepEqual(found.get(legacy.digest)?.annotations, { from: "fallback" });
    assert.equal(found.get(direct.digest)?.artifactType, signature);

    const filtered = await referrers(
      t,
      subject.digest,
      `?artifactType=${encodeURIComponent(sbom)}`,
    );
    assert.deepEqual(
      filtered.body.manifests.map((d) => d.digest),
      [legacy.digest],
    );
  });
});

describe("referrers after deletion", () => {
  it("a deleted referrer leaves the list", async () => {
    const t = await createTestRegistry();
    const subject = await pushImage(t.app, name, { tag: "latest" });
    const referrer = await pushImage(t.app, name, {
      configMediaType: signature,
      layerContent: "gone soon",
      subject: subject.descriptor,
    });
    assert.equal((await referrers(t, subject.digest)).body.manifests.length, 1);
    const res = await t.app.request(`/v2/${name}/manifests/${referrer.digest}`, {
      method: "DELETE",
    });
    assert.equal(res.status, 202);
    assert.deepEqual((await referrers(t, subject.digest)).body.manifests, []);
  });

  it("a subject that was never pushed still collects referrers", async () => {
    const t = await createTestRegistry();
    const missing = { mediaType: mediaTypes.ociManifest, digest: sha256("later"), size: 5 };
    const referrer = await pushImage(t.app, name, {
      configMediaType: signature,
      layerContent: "early",
      subject: missing,
    });
    const { body } = await referrers(t, missing.digest);
    assert.deepEqual(
      body.manifests.map((d) => d.digest),
      [referrer.digest],
    );
  });
});

/**
 * Property tests: whatever bytes and Content-Type arrive, parseManifest returns a manifest whose
 * references are all valid descriptors, or throws MANIFEST_INVALID; never anything else.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parseDigest } from "./digest.ts";
import { OciError } from "./errors.ts";
import { type ParsedManifest, parseManifest } from "./manifest-parser.ts";
import { manifestKinds, mediaTypes } from "./media-types.ts";

const runs = { seed: 20261204, numRuns: 300 };
const encoder = new TextEncoder();

function outcome(bytes: Uint8Array, contentType: string | undefined): ParsedManifest | string {
  try {
    return parseManifest(bytes, contentType);
  } catch (error) {
    assert.ok(error instanceof OciError, `non-OCI error: ${error}`);
    return error.code;
  }
}

/** What every accepted manifest must satisfy. */
function assertWellFormed(parsed: ParsedManifest): void {
  assert.equal(manifestKinds.get(parsed.mediaType), parsed.kind);
  for (const d of [
    ...parsed.blobs,
    ...parsed.manifests,
    ...(parsed.subject ? [parsed.subject] : []),
  ]) {
    parseDigest(d.digest);
    assert.ok(Number.isSafeInteger(d.size) && d.size >= 0, `size ${d.size}`);
    assert.ok(typeof d.mediaType === "string" && d.mediaType.length > 0);
  }
  if (parsed.kind === "image") assert.ok(parsed.blobs.length >= 1, "an image has its config");
  else assert.equal(parsed.blobs.length, 0);
}

const hex64 = fc.string({
  unit: fc.constantFrom(..."0123456789abcdef"),
  minLength: 64,
  maxLength: 64,
});
/** Mostly valid field values, sometimes a wrong one: near-valid structures reach deep checks. */
const digest = fc.oneof(
  { weight: 12, arbitrary: hex64.map((h) => `sha256:${h}`) },
  { weight: 1, arbitrary: fc.oneof(fc.string(), fc.constant("sha256:abc"), fc.integer()) },
);
const size = fc.oneof(
  { weight: 12, arbitrary: fc.nat() },
  {
    weight: 1,
    arbitrary: fc.oneof(fc.double(), fc.constant(-1), fc.string(), fc.constant(2 ** 60)),
  },
);
const mediaType = fc.oneof(
  fc.constantFrom(
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    mediaTypes.ociManifest,
  ),
  fc.string({ maxLength: 300 }),
);
const descriptor = fc.record(
  {
    mediaType,
    digest,
    size,
    urls: fc.array(fc.webUrl(), { maxLength: 2 }),
    annotations: fc.dictionary(
      fc.string(),
      fc.oneof({ weight: 5, arbitrary: fc.string() }, fc.integer()),
    ),
    platform: fc.record({ architecture: fc.string(), os: fc.string() }),
  },
  { requiredKeys: ["mediaType", "digest", "size"] },
);
const someValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), descriptor);
const imageBody = fc.record(
  {
    schemaVersion: fc.oneof({ weight: 8, arbitrary: fc.constant(2) }, fc.constantFrom(1, 3, "2")),
    mediaType: fc.constantFrom(
      mediaTypes.ociManifest,
      mediaTypes.dockerManifest,
      mediaTypes.ociIndex,
    ),
    config: fc.oneof({ weight: 8, arbitrary: descriptor }, someValue),
    layers: fc.oneof({ weight: 8, arbitrary: fc.array(descriptor, { maxLength: 4 }) }, someValue),
    subject: descriptor,
    annotations: fc.dictionary(fc.string(), fc.string()),
    artifactType: fc.string({ maxLength: 300 }),
  },
  { requiredKeys: ["schemaVersion", "config", "layers"] },
);
const indexBody = fc.record(
  {
    schemaVersion: fc.oneof({ weight: 8, arbitrary: fc.constant(2) }, fc.constantFrom(1, 3)),
    mediaType: fc.constantFrom(
      mediaTypes.ociIndex,
      mediaTypes.dockerManifestList,
      mediaTypes.ociManifest,
    ),
    manifests: fc.oneof(
      { weight: 8, arbitrary: fc.array(descriptor, { maxLength: 4 }) },
      someValue,
    ),
    subject: descriptor,
  },
  { requiredKeys: ["schemaVersion", "manifests"] },
);
const contentType = fc.option(
  fc.oneof(
    fc.constantFrom(...manifestKinds.keys(), "application/json", "", "application/octet-stream"),
    fc.constantFrom("application/vnd.docker.distribution.manifest.v1+prettyjws", "text/plain"),
    fc.string({ maxLength: 200 }),
    fc.constantFrom(...manifestKinds.keys()).map((t) => `${t}; charset=utf-8`),
  ),
  { nil: undefined },
);

describe("parseManifest (property)", () => {
  it("arbitrary bytes: a well-formed manifest or MANIFEST_INVALID", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), contentType, (bytes, type) => {
        const result = outcome(bytes, type);
        if (typeof result === "string") assert.equal(result, "MANIFEST_INVALID");
        else assertWellFormed(result);
      }),
      runs,
    );
  });

  it("arbitrary JSON values: a well-formed manifest or MANIFEST_INVALID", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), contentType, (value, type) => {
        const result = outcome(encoder.encode(JSON.stringify(value) ?? ""), type);
        if (typeof result === "string") assert.equal(result, "MANIFEST_INVALID");
        else assertWellFormed(result);
      }),
      runs,
    );
  });

  it("near-valid images and indexes: accepted ones keep every valid descriptor", () => {
    let accepted = 0;
    const mostlyNone = fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, contentType);
    fc.assert(
      fc.property(fc.oneof(imageBody, indexBody), mostlyNone, (body, type) => {
        const result = outcome(encoder.encode(JSON.stringify(body)), type);
        if (typeof result === "string") {
          assert.equal(result, "MANIFEST_INVALID");
          return;
        }
        accepted++;
        assertWellFormed(result);
        const listed = "layers" in body ? body.layers : body.manifests;
        if (result.kind === "index")
          assert.equal(result.manifests.length, (listed as unknown[]).length);
        else assert.ok(result.blobs.length <= 1 + (listed as unknown[]).length);
      }),
      { ...runs, numRuns: 600 },
    );
    assert.ok(accepted > 20, `the generator reaches valid manifests too (${accepted})`);
  });
});

/** Property tests: digests parse exactly when they follow the grammar, and fail only as DIGEST_INVALID. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { digestOf, parseDigest } from "./digest.ts";
import { OciError } from "./errors.ts";

/** Fixed seed: CI replays the same cases; change it locally to explore. */
const runs = { seed: 20261204, numRuns: 400 };
const oracle = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/** Parses, or returns the OCI code it failed with; any other exception fails the property. */
function outcome(value: string): { ok: true; digest: string } | { ok: false; code: string } {
  try {
    return { ok: true, digest: parseDigest(value).digest };
  } catch (error) {
    assert.ok(error instanceof OciError, `non-OCI error for ${JSON.stringify(value)}: ${error}`);
    return { ok: false, code: error.code };
  }
}

const hex = (length: number) =>
  fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: length, maxLength: length });
const validDigest = fc.oneof(
  hex(64).map((h) => `sha256:${h}`),
  hex(128).map((h) => `sha512:${h}`),
);

/** A valid digest with one small change: a character swapped, dropped, added, or case changed. */
const nearDigest = fc
  .tuple(validDigest, fc.nat(), fc.constantFrom("swap", "drop", "add", "upper", "alg"), fc.string())
  .map(([digest, at, how, extra]) => {
    const i = at % digest.length;
    if (how === "drop") return digest.slice(0, i) + digest.slice(i + 1);
    if (how === "add") return digest.slice(0, i) + (extra[0] ?? "0") + digest.slice(i);
    if (how === "upper") return digest.toUpperCase();
    if (how === "alg") return `${extra.slice(0, 8)}${digest.slice(digest.indexOf(":"))}`;
    return digest.slice(0, i) + (extra[0] ?? "g") + digest.slice(i + 1);
  });

describe("parseDigest (property)", () => {
  it("accepts every well-formed sha256 and sha512 digest unchanged", () => {
    fc.assert(
      fc.property(validDigest, (digest) => {
        assert.deepEqual(outcome(digest), { ok: true, digest });
      }),
      runs,
    );
  });

  it("agrees with the grammar on arbitrary and near-valid strings; failures are DIGEST_INVALID", () => {
    const anyString = fc.oneof(
      fc.string({ unit: "binary", maxLength: 300 }),
      fc.string({ unit: "binary-ascii", maxLength: 140 }),
      nearDigest,
    );
    fc.assert(
      fc.property(anyString, (value) => {
        const result = outcome(value);
        assert.equal(result.ok, oracle.test(value), JSON.stringify(value));
        if (!result.ok) assert.equal(result.code, "DIGEST_INVALID");
      }),
      runs,
    );
  });

  it("the digest of any bytes parses back", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 512 }),
        fc.constantFrom("sha256", "sha512"),
        (bytes, algorithm) => {
          const digest = digestOf(bytes, algorithm as "sha256" | "sha512");
          assert.equal(parseDigest(digest).algorithm, algorithm);
        },
      ),
      runs,
    );
  });
});

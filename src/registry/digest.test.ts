import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { digestOf, isDigestReference, newHash, parseDigest } from "./digest.ts";
import { DigestInvalidError } from "./errors.ts";

const emptySha256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const emptySha512 =
  "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";

function rejects(value: string, message?: RegExp) {
  assert.throws(
    () => parseDigest(value),
    (error: unknown) =>
      error instanceof DigestInvalidError &&
      error.code === "DIGEST_INVALID" &&
      error.status === 400 &&
      (message === undefined || message.test(error.message)),
    JSON.stringify(value.slice(0, 80)),
  );
}

describe("parseDigest", () => {
  it("parses sha256 and sha512 digests", () => {
    assert.deepEqual(parseDigest(emptySha256), {
      algorithm: "sha256",
      hex: emptySha256.slice(7),
      digest: emptySha256,
    });
    const parsed = parseDigest(emptySha512);
    assert.equal(parsed.algorithm, "sha512");
    assert.equal(parsed.hex.length, 128);
  });

  it("refuses unsupported algorithms", () => {
    rejects("md5:d41d8cd98f00b204e9800998ecf8427e", /unsupported/);
    rejects(`sha384:${"0".repeat(96)}`, /unsupported/);
    rejects(`sha256+b64u:${"A".repeat(43)}`, /unsupported/);
    rejects(`blake3:${"0".repeat(64)}`, /unsupported/);
  });

  it("refuses wrong lengths and non-lower-case hex", () => {
    rejects("sha256:abc");
    rejects(`sha256:${"0".repeat(63)}`);
    rejects(`sha256:${"0".repeat(65)}`);
    rejects(`sha256:${"A".repeat(64)}`);
    rejects(`sha256:${"g".repeat(64)}`);
    rejects(`sha512:${"0".repeat(64)}`);
    rejects(`sha256:${"0".repeat(128)}`);
  });

  it("refuses anything outside the digest grammar", () => {
    for (const value of [
      "",
      ":",
      "sha256:",
      ":abc",
      "sha256",
      `SHA256:${"0".repeat(64)}`,
      `sha256::${"0".repeat(64)}`,
      ` ${emptySha256}`,
      `${emptySha256} `,
      `${emptySha256}\n`,
      `sha256:${"0".repeat(300)}`,
      "latest",
    ]) {
      rejects(value);
    }
  });
});

describe("digest helpers", () => {
  it("digestOf hashes with sha256 by default, sha512 on request", () => {
    assert.equal(digestOf(new Uint8Array()), emptySha256);
    assert.equal(digestOf(new Uint8Array(), "sha512"), emptySha512);
    assert.equal(
      digestOf(new TextEncoder().encode("abc")),
      "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });

  it("newHash gives a fresh hash of the algorithm", () => {
    assert.equal(`sha256:${newHash().update("").digest("hex")}`, emptySha256);
    assert.equal(`sha512:${newHash("sha512").update("").digest("hex")}`, emptySha512);
  });

  it("isDigestReference tells digests from tags", () => {
    assert.equal(isDigestReference(emptySha256), true);
    assert.equal(isDigestReference("md5:00"), true);
    assert.equal(isDigestReference("latest"), false);
    assert.equal(isDigestReference("sha256-abc"), false);
  });
});

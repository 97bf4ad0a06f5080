/** Digest parsing and hashing: `algorithm:hex`, sha256 and sha512 as the OCI image spec registers them. */
import { createHash, type Hash } from "node:crypto";
import { DigestInvalidError } from "./errors.ts";

export type DigestAlgorithm = "sha256" | "sha512";

const hexLength: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const grammar = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
  digest: string;
}

/** Parses a digest string; throws DIGEST_INVALID for bad grammar or an unsupported algorithm. */
export function parseDigest(value: string): ParsedDigest {
  if (value.length > 256 || !grammar.test(value)) {
    throw new DigestInvalidError("invalid digest format", value.slice(0, 256));
  }
  const colon = value.indexOf(":");
  const algorithm = value.slice(0, colon);
  const hex = value.slice(colon + 1);
  if (algorithm !== "sha256" && algorithm !== "sha512") {
    throw new DigestInvalidError(`unsupported digest algorithm "${algorithm}"`, value);
  }
  if (hex.length !== hexLength[algorithm] || !/^[a-f0-9]+$/.test(hex)) {
    throw new DigestInvalidError(`invalid ${algorithm} digest`, value);
  }
  return { algorithm, hex, digest: value };
}

/** True when the string looks like a digest reference rather than a tag. */
export function isDigestReference(reference: string): boolean {
  return reference.includes(":");
}

export function newHash(algorithm: DigestAlgorithm = "sha256"): Hash {
  return createHash(algorithm);
}

/** Digest of an in-memory buffer (manifests only; blobs are hashed while streaming). */
export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = "sha256"): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}

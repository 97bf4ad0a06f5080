/** Opaque bearer secrets (personal access and refresh tokens): `<prefix>_<id>_<secret>`, stored hashed. */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export const personalPrefix = "flt";
export const refreshPrefix = "flr";

export interface Secret {
  id: string;
  /** What the user is shown once. */
  value: string;
  hash: string;
}

export function newSecret(prefix: string): Secret {
  const id = randomBytes(9).toString("base64url");
  const secret = randomBytes(24).toString("base64url");
  return { id, value: `${prefix}_${id}_${secret}`, hash: hashSecret(secret) };
}

/** Splits a presented secret; undefined when it is not one of ours. */
export function parseSecret(
  value: string,
  prefix: string,
): { id: string; secret: string } | undefined {
  const match = new RegExp(`^${prefix}_([A-Za-z0-9_-]{12})_([A-Za-z0-9_-]{32})$`).exec(value);
  return match ? { id: match[1] as string, secret: match[2] as string } : undefined;
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export function secretMatches(secret: string, hash: string): boolean {
  const a = Buffer.from(hashSecret(secret), "hex");
  const b = Buffer.from(hash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Signs and verifies the registry's short-lived access tokens (JWT, EdDSA over Ed25519). */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { errors, jwtVerify, SignJWT } from "jose";
import type { Scope } from "./scopes.ts";

export interface AccessClaims {
  sub: string;
  access: Scope[];
  /** Personal access or refresh token the grant came from, re-checked on every request. */
  tid?: string;
}

export type VerifyResult =
  | { ok: true; claims: AccessClaims }
  | { ok: false; reason: "expired" | "invalid" };

export interface TokenSignerOptions {
  issuer: string;
  audience: string;
  ttlSeconds: number;
  /** PEM file of the Ed25519 private key; created (mode 0600) when missing. */
  keyFile: string;
}

export class TokenSigner {
  readonly #options: TokenSignerOptions;
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;

  constructor(options: TokenSignerOptions) {
    this.#options = options;
    this.#privateKey = loadOrCreateKey(options.keyFile);
    this.#publicKey = createPublicKey(this.#privateKey);
  }

  get ttlSeconds(): number {
    return this.#options.ttlSeconds;
  }

  async sign(claims: AccessClaims): Promise<{ token: string; issuedAt: Date }> {
    const issuedAt = new Date();
    const jwt = new SignJWT({ access: claims.access, ...(claims.tid ? { tid: claims.tid } : {}) })
      .setProtectedHeader({ alg: "EdDSA", typ: "JWT" })
      .setIssuer(this.#options.issuer)
      .setAudience(this.#options.audience)
      .setSubject(claims.sub)
      .setIssuedAt()
      .setNotBefore(Math.floor(issuedAt.getTime() / 1000) - 5)
      .setExpirationTime(`${this.#options.ttlSeconds}s`)
      .setJti(crypto.randomUUID());
    return { token: await jwt.sign(this.#privateKey), issuedAt };
  }

  /** Checks signature, algorithm, issuer, audience and lifetime; never throws. */
  async verify(token: string): Promise<VerifyResult> {
    try {
      const { payload } = await jwtVerify(token, this.#publicKey, {
        algorithms: ["EdDSA"],
        issuer: this.#options.issuer,
        audience: this.#options.audience,
        clockTolerance: 5,
      });
      if (typeof payload.sub !== "string" || !Array.isArray(payload.access)) {
        return { ok: false, reason: "invalid" };
      }
      return {
        ok: true,
        claims: {
          sub: payload.sub,
          access: payload.access as Scope[],
          tid: typeof payload.tid === "string" ? payload.tid : undefined,
        },
      };
    } catch (error) {
      return { ok: false, reason: error instanceof errors.JWTExpired ? "expired" : "invalid" };
    }
  }
}

function loadOrCreateKey(path: string): KeyObject {
  if (existsSync(path)) return createPrivateKey(readFileSync(path));
  const { privateKey } = generateKeyPairSync("ed25519");
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, privateKey.export({ type: "pkcs8", format: "pem" }), {
    mode: 0o600,
    flag: "wx",
  });
  return privateKey;
}

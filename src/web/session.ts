/**
 * Browser sessions: a signed, HttpOnly, SameSite=Lax cookie (HMAC-SHA256 with a key kept in the
 * data directory), and a per-session CSRF token that every POST form carries back.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export const sessionCookie = "flotilla_session";

export interface Session {
  user: string;
  /** Random per sign-in; the CSRF token is derived from it. */
  id: string;
  expiresAt: number;
}

/** Loads the signing key, creating it (0600) on first use. */
export function loadSessionKey(file: string): Buffer {
  if (existsSync(file)) {
    const key = readFileSync(file);
    if (key.length >= 32) return key;
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  writeFileSync(file, key, { mode: 0o600, flag: "w" });
  chmodSync(file, 0o600);
  return key;
}

export class SessionSigner {
  readonly #key: Buffer;
  readonly #ttlMs: number;

  constructor(key: Buffer, options: { hours: number }) {
    this.#key = key;
    this.#ttlMs = options.hours * 3600_000;
  }

  /** A new session for `user`, and its cookie value. */
  create(user: string, now = Date.now()): { session: Session; value: string } {
    const session = {
      user,
      id: randomBytes(16).toString("base64url"),
      expiresAt: now + this.#ttlMs,
    };
    const payload = Buffer.from(
      JSON.stringify([session.user, session.id, session.expiresAt]),
    ).toString("base64url");
    return { session, value: `${payload}.${this.#mac(`session.${payload}`)}` };
  }

  /** The session a cookie value names, or undefined when forged, malformed or expired. */
  read(value: string | undefined, now = Date.now()): Session | undefined {
    if (!value || value.length > 1024) return undefined;
    const dot = value.indexOf(".");
    if (dot < 1) return undefined;
    const payload = value.slice(0, dot);
    if (!this.#equal(value.slice(dot + 1), this.#mac(`session.${payload}`))) return undefined;
    try {
      const [user, id, expiresAt] = JSON.parse(Buffer.from(payload, "base64url").toString()) as [
        unknown,
        unknown,
        unknown,
      ];
      if (typeof user !== "string" || typeof id !== "string" || typeof expiresAt !== "number")
        return undefined;
      if (expiresAt <= now) return undefined;
      return { user, id, expiresAt };
    } catch {
      return undefined;
    }
  }

  /** The CSRF token of a session: forms and API calls made with the cookie must send it. */
  csrf(session: Session): string {
    return this.#mac(`csrf.${session.id}`);
  }

  checkCsrf(session: Session, presented: string | undefined): boolean {
    return presented !== undefined && this.#equal(presented, this.csrf(session));
  }

  /** The token a sign-in form carries, bound to the random nonce in its pre-session cookie. */
  loginToken(nonce: string): string {
    return this.#mac(`login.${nonce}`);
  }

  checkLoginToken(nonce: string | undefined, presented: string | undefined): boolean {
    return (
      Boolean(nonce) &&
      presented !== undefined &&
      this.#equal(presented, this.loginToken(nonce ?? ""))
    );
  }

  get maxAgeSeconds(): number {
    return Math.floor(this.#ttlMs / 1000);
  }

  #mac(text: string): string {
    return createHmac("sha256", this.#key).update(text).digest("base64url");
  }

  #equal(a: string, b: string): boolean {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  }
}

/** Who is asking and what they may do. */
import type { TokenScope } from "../meta/index.ts";

export type Action = "pull" | "push" | "delete";
export const allActions: readonly Action[] = ["pull", "push", "delete"];

/** An authenticated caller (or the anonymous one, with no `user`). */
export interface Principal {
  user?: string;
  admin: boolean;
  /** The personal access token or refresh token this came from, if any. */
  tokenId?: string;
  /** A personal access token's scope caps what the user's rights allow. */
  scope?: TokenScope;
}

export const anonymous: Principal = Object.freeze({ admin: false });

/** The result of checking credentials: a principal, or why not (never thrown: it is expected). */
export type AuthResult =
  | { ok: true; principal: Principal }
  | { ok: false; reason: "invalid" | "rate-limited"; retryAfterSeconds?: number };

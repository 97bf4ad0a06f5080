/** The web interface's dependencies and the shapes its pages and JSON API share. */
import type { Context } from "hono";
import type { AccessPolicy, AccountService, Principal } from "../accounts/index.ts";
import type { SocialService } from "../federation/types.ts";
import type { Logger } from "../log/index.ts";
import type { SqliteDatabase } from "../meta/index.ts";
import type { LifecycleRunRecord } from "../meta/lifecycle-types.ts";
import type { MirrorStatus } from "../mirror/types.ts";
import type { Registry } from "../registry/index.ts";

/** What the web module needs; federation, mirrors and IPFS are optional (pages say when off). */
export interface WebDeps {
  registry: Registry;
  accounts: AccountService;
  /** Absent when authentication is off: everyone reads everything, nobody signs in. */
  policy?: AccessPolicy;
  database: SqliteDatabase;
  log: Logger;
  /** The client's address, for the sign-in rate limit (forwarded headers only from trusted proxies). */
  // biome-ignore lint/suspicious/noExplicitAny: the HTTP layer's context, whatever its variables.
  clientAddress?(c: Context<any>): string | undefined;
  social?: SocialService;
  mirrors?: { list(): Promise<MirrorStatus[]> };
  /** The latest garbage collection and retention runs (the storage lifecycle's record). */
  lifecycleRuns?(limit: number): Promise<LifecycleRun[]>;
  /** The IPFS CID of a manifest digest, when IPFS is on. */
  cidOf?(digest: string): Promise<string | undefined>;
}

export interface WebOptions {
  publicUrl: string;
  /** Where the session signing key is kept (`<dataDir>/keys/web-session.key`). */
  keyFile: string;
  name: string;
  description: string;
  sessionHours: number;
}

export type LifecycleRun = Omit<LifecycleRunRecord, "id">;

/** Who is looking: a signed-in user, an anonymous reader, or everyone when auth is off. */
export interface Viewer {
  principal: Principal;
  /** The signed-in user (session or API credentials). */
  user?: string;
  admin: boolean;
  /** The CSRF token of the browser session (forms carry it back). */
  csrf?: string;
  /** True when authentication is off: there is nobody to sign in as. */
  open: boolean;
  /** How the viewer was recognised: a browser session needs CSRF tokens on writes. */
  via: "session" | "credentials" | "none";
}

export interface RepositorySummary {
  name: string;
  /** `local`, or the host a mirrored or announced repository comes from. */
  instance: string;
  description: string;
  tags: number;
  lastPushAt?: number;
  platforms: string[];
  signed: boolean;
  stars: number;
  /** A remote repository known from federation but not stored here. */
  remote?: { actorId: string; registryUrl: string; url?: string; followed: boolean };
}

export interface TagDetail {
  name: string;
  digest: string;
  mediaType: string;
  /** Manifest size plus every blob it references (children's too, for an index). */
  size: number;
  platforms: string[];
  pushedAt: number;
  signed: boolean;
}

export interface SearchFilters {
  query: string;
  instance?: string;
  namespace?: string;
  platform?: string;
  signed?: boolean;
  limit: number;
}

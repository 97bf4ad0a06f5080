/** What the federation module's parts share: its dependencies, options and stores. */
import type { Context, Federation } from "@fedify/fedify";
import type { Logger } from "../log/index.ts";
import type { AccountStore, RepositoryMeta, SqliteDatabase } from "../meta/index.ts";
import type { Mirror } from "../mirror/types.ts";
import type { GuardedFetcher } from "../net/index.ts";
import type { Registry } from "../registry/index.ts";
import type { GraphStore } from "./graph-store.ts";
import type { ActorKeys } from "./keys.ts";
import type { SocialStore } from "./social-store.ts";

export interface FederationDeps {
  database: SqliteDatabase;
  /** Registry events and manifests; absent in the CLI, which publishes nothing. */
  registry?: Pick<Registry, "events" | "manifests" | "blobs">;
  meta: RepositoryMeta;
  accounts: AccountStore;
  /** Whether anonymous callers may pull a repository; only those federate. */
  isPublic(repository: string): Promise<boolean>;
  /** The mirror (`src/mirror/`), when loaded; claims are only recorded without it. */
  mirror?: Mirror;
  /** The IPFS CID of a digest, when the IPFS extension is on and has one. */
  cidOf?(digest: string): Promise<string | undefined>;
  /** The instance's guarded fetcher, for the few fetches that are not Fedify's own. */
  fetcher?: GuardedFetcher;
  log: Logger;
}

export interface FederationOptions {
  publicUrl: string;
  /** Let Fedify fetch loopback and private addresses (tests with several local instances). */
  allowPrivateAddress: boolean;
  inboxMaxBytes: number;
  inboxPerHostPerMinute: number;
  maxActivityAgeMs: number;
  /** Queue poll interval; the CLI enqueues from another process. */
  queuePollMs?: number;
}

/** The running parts, handed to dispatchers, listeners, the publisher and the social service. */
export interface Core {
  deps: FederationDeps;
  options: FederationOptions;
  graph: GraphStore;
  social: SocialStore;
  keys: ActorKeys;
  federation: Federation<void>;
  /** HTTP signature key ids of recent inbox deliveries, by activity id (evidence for claims). */
  signers: Map<string, string>;
  /** A context outside any request (publishing, the social service). */
  context(): Context<void>;
  log: Logger;
}

/**
 * Federation's public face: what the web UI, the CLI and the JSON API call. ActivityPub itself
 * (actors, inbox, delivery) stays behind this; callers speak in repository names, handles and URLs.
 */

/**
 * A repository as callers name it: a local name (`alice/app`), the URL of a repository actor
 * (`https://other.example/ap/repos/alice/app`), or a mirrored name (`other.example/alice/app`).
 */
export type RepositoryTarget = string;

/** What a follow, star, boost or report points at: a repository target or a handle (`@alice@host`). */
export type SocialTarget = string;

export interface RepositoryCounts {
  /** Likes: local users' stars and remote actors' Likes. */
  stars: number;
  /** Announces of the repository (this instance's and remote ones seen). */
  boosts: number;
  /** Followers of the repository actor (local instance and remote actors). */
  followers: number;
}

export type FollowState = "pending" | "accepted" | "rejected";

/** An actor this instance follows (always from the instance actor). */
export interface FollowRecord {
  /** ActivityPub id of the followed actor. */
  actorId: string;
  /** `repository` (a Service) or `namespace` (a Person or Organization, all its repositories). */
  kind: "repository" | "namespace";
  /** `@alice@host` for namespaces, the repository's `host/name` for repositories. */
  label: string;
  state: FollowState;
  createdAt: Date;
  acceptedAt?: Date;
}

/** One entry of the instance's curated list (an Announce by the instance or one of its users). */
export interface BoostRecord {
  /** ActivityPub id of the boosted repository actor. */
  actorId: string;
  /** `host/name` of the repository, for display. */
  label: string;
  /** `instance` or the local user who boosted. */
  by: string;
  createdAt: Date;
}

/** A report (Flag), from a local user or a remote actor, waiting for an administrator. */
export interface ReportRecord {
  id: string;
  /** Local user name, or the ActivityPub id of the remote actor who sent the Flag. */
  reporter: string;
  origin: "local" | "remote";
  /** ActivityPub id of the reported actor (repository, user or organization). */
  targetActorId: string;
  /** Human label of the target (`host/name` or `@user@host`). */
  label: string;
  text: string;
  createdAt: Date;
  resolvedAt?: Date;
}

export interface BlockedDomain {
  domain: string;
  reason?: string;
  createdAt: Date;
}

/** A repository on another instance, learned from Notes and Announces seen (for search). */
export interface KnownRemoteRepository {
  actorId: string;
  /** Base URL of the origin registry API. */
  registryUrl: string;
  /** Name on the origin, e.g. `alice/app`. */
  name: string;
  /** The origin's host (with port), e.g. `other.example` or `127.0.0.1:5001`. */
  host: string;
  /** The repository's web page on its origin, when it said. */
  url?: string;
  summary?: string;
  lastTag?: string;
  lastDigest?: string;
  lastSeenAt: Date;
  /** Whether this instance follows (and so mirrors) it. */
  followed: boolean;
}

/** Why a social action could not be done; `code` is stable for callers to branch on. */
export type SocialErrorCode =
  | "not-found" // no such local repository/namespace, or the remote actor could not be resolved
  | "invalid" // malformed target, handle or text
  | "blocked" // the target's domain is blocked
  | "private" // private repositories do not federate
  | "unsupported"; // e.g. starring something that is not a repository

/** A failed social action: a mistake by the caller or an unreachable remote, never a crash. */
export class SocialError extends Error {
  readonly code: SocialErrorCode;
  constructor(code: SocialErrorCode, message: string) {
    super(message);
    this.name = "SocialError";
    this.code = code;
  }
}

/**
 * Stars, boosts, reports, follows and blocks. Methods throw `SocialError` for expected failures.
 * Users are local user names; access control is the caller's job (the UI and API check roles).
 */
export interface SocialService {
  /** A local user stars a repository (local or remote); remote ones get a Like. Idempotent. */
  star(user: string, target: RepositoryTarget): Promise<void>;
  /** Undoes a star (Undo(Like) for remote ones). Idempotent. */
  unstar(user: string, target: RepositoryTarget): Promise<void>;
  /** Whether `user` has starred the repository. */
  isStarred(user: string, target: RepositoryTarget): Promise<boolean>;
  /**
   * Adds a repository to the curated list and Announces it to followers. `by` is `instance`
   * (the instance actor, an administrator's choice) or a local user name. Idempotent.
   */
  boost(by: string, target: RepositoryTarget): Promise<void>;
  unboost(by: string, target: RepositoryTarget): Promise<void>;
  /** The instance's curated list, newest first. */
  boosts(): Promise<BoostRecord[]>;
  /** A local user reports a repository or namespace; remote targets also get a Flag. Returns the id. */
  report(user: string, target: SocialTarget, text: string): Promise<string>;
  /** Reports for administrators, newest first; resolved ones only when asked. */
  reports(options?: { includeResolved?: boolean }): Promise<ReportRecord[]>;
  /** Marks a report handled; false when there is no such report. */
  resolveReport(id: string): Promise<boolean>;
  /** The instance follows a remote repository (URL) or namespace (`@alice@host` or URL). */
  follow(target: SocialTarget): Promise<FollowRecord>;
  /** Sends Undo(Follow) and stops mirroring; false when it was not followed. */
  unfollow(target: SocialTarget): Promise<boolean>;
  follows(): Promise<FollowRecord[]>;
  /** Stops delivery both ways and drops the domain's pending deliveries. */
  blockDomain(domain: string, reason?: string): Promise<void>;
  unblockDomain(domain: string): Promise<boolean>;
  blockedDomains(): Promise<BlockedDomain[]>;
  /** Stars, boosts and followers of a local repository (or a known remote one). */
  counts(target: RepositoryTarget): Promise<RepositoryCounts>;
  /** Remote repositories seen in Notes and Announces, newest first; `query` matches name or host. */
  knownRemoteRepositories(options: {
    query?: string;
    limit: number;
  }): Promise<KnownRemoteRepository[]>;
  /** The WebFinger handle of a local user or organization: `@alice@host`. */
  handleOf(namespace: string): string;
  /** The ActivityPub id of a local repository's actor. */
  actorUrlOf(repository: string): string;
}

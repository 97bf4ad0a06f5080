/** Who follows whom, blocked domains, activities already processed, remote repositories seen. */
import type { SqliteDatabase } from "../meta/index.ts";
import { hostMatchesDomain } from "./domains.ts";
import type { BlockedDomain, FollowRecord, FollowState, KnownRemoteRepository } from "./types.ts";

export interface FollowerRow {
  followerId: string;
  inbox: string;
  sharedInbox?: string;
}

export interface FollowingRow extends FollowRecord {
  inbox: string;
  followId: string;
  registryUrl?: string;
  name?: string;
}

export interface RemoteRepositoryRow {
  actorId: string;
  registryUrl: string;
  name: string;
  host: string;
  url?: string;
  summary?: string;
  namespaceActor?: string;
}

const str = (v: unknown) => (v === null || v === undefined ? undefined : String(v));

export class GraphStore {
  readonly #db: SqliteDatabase;
  #blocked: string[] | undefined;
  #blockedAt = 0;

  constructor(database: SqliteDatabase) {
    this.#db = database;
  }

  addFollower(actor: string, follower: FollowerRow & { followId?: string }): void {
    this.#db
      .sql(
        `INSERT INTO federation_followers (actor, follower_id, inbox, shared_inbox, follow_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (actor, follower_id) DO UPDATE SET
         inbox = excluded.inbox, shared_inbox = excluded.shared_inbox, follow_id = excluded.follow_id`,
      )
      .run(
        actor,
        follower.followerId,
        follower.inbox,
        follower.sharedInbox ?? null,
        follower.followId ?? null,
        Date.now(),
      );
  }

  removeFollower(actor: string, followerId: string): boolean {
    const result = this.#db
      .sql("DELETE FROM federation_followers WHERE actor = ? AND follower_id = ?")
      .run(actor, followerId);
    return Number(result.changes) > 0;
  }

  followers(actor: string, offset = 0, limit = 1_000_000): FollowerRow[] {
    return this.#db
      .sql(
        `SELECT follower_id, inbox, shared_inbox FROM federation_followers WHERE actor = ?
         ORDER BY created_at, follower_id LIMIT ? OFFSET ?`,
      )
      .all(actor, limit, offset)
      .map((r) => ({
        followerId: String(r.follower_id),
        inbox: String(r.inbox),
        sharedInbox: str(r.shared_inbox),
      }));
  }

  followerCount(actor: string): number {
    const row = this.#db
      .sql("SELECT count(*) AS n FROM federation_followers WHERE actor = ?")
      .get(actor);
    return Number(row?.n ?? 0);
  }

  putFollowing(row: Omit<FollowingRow, "createdAt" | "acceptedAt">): void {
    this.#db
      .sql(
        `INSERT INTO federation_following (actor_id, kind, label, inbox, follow_id, state, registry_url, name, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (actor_id) DO UPDATE SET
         kind = excluded.kind, label = excluded.label, inbox = excluded.inbox, follow_id = excluded.follow_id,
         state = excluded.state, registry_url = excluded.registry_url, name = excluded.name, accepted_at = NULL`,
      )
      .run(
        row.actorId,
        row.kind,
        row.label,
        row.inbox,
        row.followId,
        row.state,
        row.registryUrl ?? null,
        row.name ?? null,
        Date.now(),
      );
  }

  setFollowingState(actorId: string, state: FollowState): boolean {
    const result = this.#db
      .sql(
        "UPDATE federation_following SET state = ?, accepted_at = ? WHERE actor_id = ? AND state != ?",
      )
      .run(state, state === "accepted" ? Date.now() : null, actorId, state);
    return Number(result.changes) > 0;
  }

  following(actorId: string): FollowingRow | undefined {
    const row = this.#db.sql("SELECT * FROM federation_following WHERE actor_id = ?").get(actorId);
    return row ? followingRow(row) : undefined;
  }

  allFollowing(): FollowingRow[] {
    return this.#db
      .sql("SELECT * FROM federation_following ORDER BY created_at DESC")
      .all()
      .map(followingRow);
  }

  removeFollowing(actorId: string): boolean {
    const result = this.#db.sql("DELETE FROM federation_following WHERE actor_id = ?").run(actorId);
    return Number(result.changes) > 0;
  }

  block(domain: string, reason?: string): void {
    this.#db
      .sql(
        `INSERT INTO federation_blocked_domains (domain, reason, created_at) VALUES (?, ?, ?)
         ON CONFLICT (domain) DO UPDATE SET reason = excluded.reason`,
      )
      .run(domain, reason ?? null, Date.now());
    this.#blocked = undefined;
  }

  unblock(domain: string): boolean {
    const result = this.#db
      .sql("DELETE FROM federation_blocked_domains WHERE domain = ?")
      .run(domain);
    this.#blocked = undefined;
    return Number(result.changes) > 0;
  }

  blockedDomains(): BlockedDomain[] {
    return this.#db
      .sql("SELECT domain, reason, created_at FROM federation_blocked_domains ORDER BY domain")
      .all()
      .map((r) => ({
        domain: String(r.domain),
        reason: str(r.reason),
        createdAt: new Date(Number(r.created_at)),
      }));
  }

  /** Whether a host (with port) is blocked; the list is cached until the next change here. */
  isBlocked(host: string | undefined): boolean {
    if (!host) return false;
    // The CLI may change blocks from another process: re-read at most once a second.
    if (!this.#blocked || Date.now() - this.#blockedAt > 1000) {
      this.#blocked = this.blockedDomains().map((b) => b.domain);
      this.#blockedAt = Date.now();
    }
    return this.#blocked.some((domain) => hostMatchesDomain(host, domain));
  }

  /** Records an activity id; false when it was already processed (a replay). */
  markSeen(id: string, actor: string): boolean {
    const result = this.#db
      .sql(
        "INSERT OR IGNORE INTO federation_activities_seen (id, actor, received_at) VALUES (?, ?, ?)",
      )
      .run(id, actor, Date.now());
    return Number(result.changes) > 0;
  }

  /** Drops records of activities older than the replay window (older ones are refused anyway). */
  forgetSeenBefore(time: number): number {
    return Number(
      this.#db.sql("DELETE FROM federation_activities_seen WHERE received_at < ?").run(time)
        .changes,
    );
  }

  putRemoteRepository(row: RemoteRepositoryRow, last?: { tag?: string; digest?: string }): void {
    this.#db
      .sql(
        `INSERT INTO federation_remote_repositories
           (actor_id, registry_url, name, host, url, summary, namespace_actor, last_tag, last_digest, last_seen_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (actor_id) DO UPDATE SET
           registry_url = excluded.registry_url, name = excluded.name, host = excluded.host,
           url = coalesce(excluded.url, url), summary = coalesce(excluded.summary, summary),
           namespace_actor = coalesce(excluded.namespace_actor, namespace_actor),
           last_tag = coalesce(excluded.last_tag, last_tag),
           last_digest = coalesce(excluded.last_digest, last_digest), last_seen_at = excluded.last_seen_at`,
      )
      .run(
        row.actorId,
        row.registryUrl,
        row.name,
        row.host,
        row.url ?? null,
        row.summary ?? null,
        row.namespaceActor ?? null,
        last?.tag ?? null,
        last?.digest ?? null,
        Date.now(),
      );
  }

  remoteRepository(actorId: string): RemoteRepositoryRow | undefined {
    const row = this.#db
      .sql("SELECT * FROM federation_remote_repositories WHERE actor_id = ?")
      .get(actorId);
    return row ? remoteRow(row) : undefined;
  }

  knownRemoteRepositories(query: string | undefined, limit: number): KnownRemoteRepository[] {
    const like = `%${(query ?? "").toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return this.#db
      .sql(
        `SELECT r.*, f.state AS follow_state, nf.state AS namespace_state
         FROM federation_remote_repositories r
         LEFT JOIN federation_following f ON f.actor_id = r.actor_id
         LEFT JOIN federation_following nf ON nf.actor_id = r.namespace_actor
         WHERE lower(r.name) LIKE ? ESCAPE '\\' OR lower(r.host) LIKE ? ESCAPE '\\'
         ORDER BY r.last_seen_at DESC LIMIT ?`,
      )
      .all(like, like, Math.max(1, Math.min(limit, 1000)))
      .map((r) => ({
        ...remoteRow(r),
        lastTag: str(r.last_tag),
        lastDigest: str(r.last_digest),
        lastSeenAt: new Date(Number(r.last_seen_at)),
        followed: r.follow_state === "accepted" || r.namespace_state === "accepted",
      }));
  }

  /** The last tag claim applied for a remote repository's tag (to refuse older ones). */
  remoteTag(actorId: string, tag: string): { published: number; objectId: string } | undefined {
    const row = this.#db
      .sql("SELECT published, object_id FROM federation_remote_tags WHERE actor_id = ? AND tag = ?")
      .get(actorId, tag);
    return row ? { published: Number(row.published), objectId: String(row.object_id) } : undefined;
  }

  remoteTagByObject(objectId: string): { actorId: string; tag: string } | undefined {
    const row = this.#db
      .sql("SELECT actor_id, tag FROM federation_remote_tags WHERE object_id = ?")
      .get(objectId);
    return row ? { actorId: String(row.actor_id), tag: String(row.tag) } : undefined;
  }

  putRemoteTag(
    actorId: string,
    tag: string,
    claim: { digest?: string; published: number; activityId: string; objectId: string },
  ): void {
    this.#db
      .sql(
        `INSERT INTO federation_remote_tags (actor_id, tag, digest, published, activity_id, object_id)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (actor_id, tag) DO UPDATE SET digest = excluded.digest,
         published = excluded.published, activity_id = excluded.activity_id, object_id = excluded.object_id`,
      )
      .run(actorId, tag, claim.digest ?? null, claim.published, claim.activityId, claim.objectId);
  }
}

function followingRow(r: Record<string, unknown>): FollowingRow {
  return {
    actorId: String(r.actor_id),
    kind: r.kind === "namespace" ? "namespace" : "repository",
    label: String(r.label),
    inbox: String(r.inbox),
    followId: String(r.follow_id),
    state: String(r.state) as FollowState,
    registryUrl: str(r.registry_url),
    name: str(r.name),
    createdAt: new Date(Number(r.created_at)),
    acceptedAt: r.accepted_at === null ? undefined : new Date(Number(r.accepted_at)),
  };
}

function remoteRow(r: Record<string, unknown>): RemoteRepositoryRow {
  return {
    actorId: String(r.actor_id),
    registryUrl: String(r.registry_url),
    name: String(r.name),
    host: String(r.host),
    url: str(r.url),
    summary: str(r.summary),
    namespaceActor: str(r.namespace_actor),
  };
}

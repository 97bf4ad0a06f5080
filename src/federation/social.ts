/** The SocialService behind the web UI, the CLI and the JSON API. */
import { randomUUID } from "node:crypto";
import {
  type Actor,
  Announce,
  Flag,
  type Follow,
  Like,
  PUBLIC_COLLECTION,
  Undo,
} from "@fedify/vocab";
import { checkName } from "../registry/index.ts";
import type { Core } from "./core.ts";
import { normalizeDomain } from "./domains.ts";
import { follow, follows, unfollow } from "./follows.ts";
import type { SqliteMessageQueue } from "./message-queue.ts";
import { identifierOf, instanceIdentifier, instant } from "./names.ts";
import { type Resolved, resolveTarget } from "./resolve.ts";
import {
  type BlockedDomain,
  type BoostRecord,
  type FollowRecord,
  type KnownRemoteRepository,
  type ReportRecord,
  type RepositoryCounts,
  SocialError,
  type SocialService,
} from "./types.ts";

export class FederatedSocialService implements SocialService {
  readonly #core: Core;
  readonly #queue: SqliteMessageQueue;

  constructor(core: Core, queue: SqliteMessageQueue) {
    this.#core = core;
    this.#queue = queue;
  }

  async star(user: string, target: string): Promise<void> {
    const repo = await this.#repository(target);
    await this.#requireUser(user);
    const likeId = this.#activityId();
    if (!this.#core.social.addStar(repo.actorId.href, user, "local", likeId.href)) return;
    if (repo.local) return;
    const actor = this.#actorOf(user);
    await this.#send(
      actor,
      repo.actor,
      new Like({ id: likeId, actor: this.#uri(actor), object: repo.actorId }),
    );
  }

  async unstar(user: string, target: string): Promise<void> {
    const repo = await this.#repository(target);
    const likeId = this.#core.social.removeStar(repo.actorId.href, user);
    if (repo.local || !likeId) return;
    const actor = this.#actorOf(user);
    const like = new Like({ id: new URL(likeId), actor: this.#uri(actor), object: repo.actorId });
    await this.#send(
      actor,
      repo.actor,
      new Undo({ id: this.#activityId(), actor: this.#uri(actor), object: like }),
    );
  }

  async isStarred(user: string, target: string): Promise<boolean> {
    return this.#core.social.hasStar(await this.#key(target), user);
  }

  async boost(by: string, target: string): Promise<void> {
    const repo = await this.#repository(target);
    const actor = await this.#booster(by);
    const announce = new Announce({
      id: this.#activityId(),
      actor: this.#uri(actor),
      object: repo.actorId,
      published: instant(),
      to: PUBLIC_COLLECTION,
      cc: this.#core.context().getFollowersUri(actor),
    });
    if (!this.#core.social.addBoost(repo.actorId.href, by, "local", repo.label, announce.id?.href))
      return;
    await this.#announce(actor, repo, announce);
  }

  async unboost(by: string, target: string): Promise<void> {
    const repo = await this.#repository(target);
    const actor = await this.#booster(by);
    const announceId = this.#core.social.removeBoost(repo.actorId.href, by);
    if (!announceId) return;
    this.#core.social.removeOutbox(announceId);
    const announce = new Announce({
      id: new URL(announceId),
      actor: this.#uri(actor),
      object: repo.actorId,
    });
    await this.#announce(
      actor,
      repo,
      new Undo({ id: this.#activityId(), actor: this.#uri(actor), object: announce }),
    );
  }

  async boosts(): Promise<BoostRecord[]> {
    return this.#core.social.localBoosts();
  }

  async report(user: string, target: string, text: string): Promise<string> {
    const trimmed = text.trim();
    if (!trimmed || trimmed.length > 5000)
      throw new SocialError("invalid", "a report needs 1 to 5000 characters");
    const resolved = await resolveTarget(this.#core, target);
    const id = this.#core.social.addReport({
      reporter: user,
      origin: "local",
      targetActorId: resolved.actorId.href,
      label: resolved.label,
      text: trimmed,
    });
    if (!resolved.local) {
      // Reports leave from the instance actor, so the remote side never learns which user sent it.
      const flag = new Flag({
        id: this.#activityId(),
        actor: this.#uri(instanceIdentifier),
        object: resolved.actorId,
        content: trimmed,
      });
      await this.#send(instanceIdentifier, resolved.actor, flag);
    }
    return id;
  }

  async reports(options: { includeResolved?: boolean } = {}): Promise<ReportRecord[]> {
    return this.#core.social.reports(Boolean(options.includeResolved));
  }

  async resolveReport(id: string): Promise<boolean> {
    return this.#core.social.resolveReport(id);
  }

  follow(target: string): Promise<FollowRecord> {
    return follow(this.#core, target);
  }

  unfollow(target: string): Promise<boolean> {
    return unfollow(this.#core, target);
  }

  async follows(): Promise<FollowRecord[]> {
    return follows(this.#core);
  }

  async blockDomain(domain: string, reason?: string): Promise<void> {
    const normalized = normalizeDomain(domain);
    if (!normalized) throw new SocialError("invalid", `not a domain: ${domain}`);
    if (normalized === new URL(this.#core.options.publicUrl).host)
      throw new SocialError("invalid", "an instance cannot block itself");
    this.#core.graph.block(normalized, reason?.trim() || undefined);
    const purged = this.#queue.purgeDomain(normalized);
    this.#core.log.info({ category: "federation", domain: normalized, purged }, "domain blocked");
  }

  async unblockDomain(domain: string): Promise<boolean> {
    const normalized = normalizeDomain(domain);
    return normalized ? this.#core.graph.unblock(normalized) : false;
  }

  async blockedDomains(): Promise<BlockedDomain[]> {
    return this.#core.graph.blockedDomains();
  }

  async counts(target: string): Promise<RepositoryCounts> {
    const key = await this.#key(target);
    const local = this.#core.context().parseUri(new URL(key));
    const followers =
      local?.type === "actor"
        ? this.#core.graph.followerCount(local.identifier)
        : this.#core.graph.following(key)?.state === "accepted"
          ? 1
          : 0;
    return {
      stars: this.#core.social.count("federation_stars", key),
      boosts: this.#core.social.count("federation_boosts", key),
      followers,
    };
  }

  async knownRemoteRepositories(options: {
    query?: string;
    limit: number;
  }): Promise<KnownRemoteRepository[]> {
    return this.#core.graph.knownRemoteRepositories(options.query, options.limit);
  }

  handleOf(namespace: string): string {
    return `@${namespace}@${new URL(this.#core.options.publicUrl).host}`;
  }

  actorUrlOf(repository: string): string {
    return new URL(
      `/ap/${identifierOf({ kind: "repository", name: repository })}`,
      this.#core.options.publicUrl,
    ).href;
  }

  /** A repository target, resolved (remote ones are fetched from their origin). */
  async #repository(target: string) {
    const resolved: Resolved = await resolveTarget(this.#core, target);
    if (resolved.local) {
      if (resolved.ref.kind !== "repository")
        throw new SocialError("unsupported", `${target} is not a repository`);
      return { ...resolved, actor: undefined };
    }
    if (resolved.kind !== "repository")
      throw new SocialError("unsupported", `${target} is not a repository`);
    return { ...resolved, identifier: "" };
  }

  /**
   * The actor URL stars and boosts are recorded under, without fetching anything or checking
   * visibility (counts of a private repository's local stars are still its own).
   */
  async #key(target: string): Promise<string> {
    const text = target.trim();
    if (/^https?:\/\//i.test(text)) return new URL(text).href;
    const mirrored = (await this.#core.deps.mirror?.list())?.find((m) => m.localName === text);
    if (mirrored) return mirrored.actorId;
    try {
      checkName(text);
    } catch {
      throw new SocialError("invalid", `not a repository name: ${text}`);
    }
    return this.actorUrlOf(text);
  }

  async #requireUser(user: string) {
    if (!(await this.#core.deps.accounts.getUser(user)))
      throw new SocialError("not-found", `no user ${user}`);
  }

  async #booster(by: string): Promise<string> {
    if (by === "instance") return instanceIdentifier;
    await this.#requireUser(by);
    return this.#actorOf(by);
  }

  /** An Announce goes to the booster's followers, and to a remote repository's origin. */
  async #announce(
    actor: string,
    repo: { local: boolean; actor?: Actor },
    activity: Announce | Undo,
  ) {
    const ctx = this.#core.context();
    // Boosts are public acts: they show in the booster's outbox.
    if (activity instanceof Announce) {
      const json = await activity.toJsonLd({ contextLoader: ctx.contextLoader });
      this.#core.social.addOutbox(activity.id?.href ?? "", actor, JSON.stringify(json), Date.now());
    }
    await ctx.sendActivity({ identifier: actor }, "followers", activity, {
      preferSharedInbox: true,
    });
    if (!repo.local && repo.actor) await this.#send(actor, repo.actor, activity);
  }

  async #send(
    actor: string,
    to: Actor | undefined,
    activity: Like | Undo | Flag | Follow | Announce,
  ) {
    if (!to) return;
    await this.#core.context().sendActivity({ identifier: actor }, to, activity);
  }

  #actorOf(user: string): string {
    return identifierOf({ kind: "user", name: user });
  }

  #uri(identifier: string): URL {
    return this.#core.context().getActorUri(identifier);
  }

  #activityId(): URL {
    return new URL(`/ap/activities/${randomUUID()}`, this.#core.options.publicUrl);
  }
}

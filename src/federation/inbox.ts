/**
 * The inbox: what other servers may do here. Fedify has verified the HTTP signature (or object
 * integrity proof) and that the signer owns the actor before any listener runs; these listeners
 * add the rest of the trust rules (one host for activity and actor, no replays, no blocked
 * domains) and never let a remote change anything but its own follows, stars, boosts, reports and
 * the mirrors of its own repositories.
 */
import { randomUUID } from "node:crypto";
import type { InboxContext } from "@fedify/fedify";
import {
  Accept,
  Activity,
  Announce,
  Create,
  Delete,
  Flag,
  Follow,
  isActor,
  Like,
  Reject,
  Undo,
  Update,
} from "@fedify/vocab";
import { existingActor } from "./actors.ts";
import { handleCreateOrUpdate, handleDelete } from "./claims.ts";
import type { Core } from "./core.ts";
import { epochMs } from "./names.ts";
import { remoteRepositoryOf, repositoryLabel } from "./remote.ts";

type Handler<T extends Activity> = (
  ctx: InboxContext<void>,
  activity: T,
  actor: URL,
) => Promise<void>;

export function registerInbox(core: Core): void {
  const log = core.log.child({ category: "federation.inbox" });
  const guarded =
    <T extends Activity>(handler: Handler<T>) =>
    async (ctx: InboxContext<void>, activity: T) => {
      const actor = admit(core, activity);
      if (typeof actor === "string") {
        log.warn({ activity: activity.id?.href, reason: actor }, "activity refused");
        return;
      }
      try {
        await handler(ctx, activity, actor);
      } catch (error) {
        // Let Fedify's retry see it as new: a failure here is ours, not a replay.
        core.deps.database
          .sql("DELETE FROM federation_activities_seen WHERE id = ?")
          .run(activity.id?.href ?? "");
        throw error;
      }
    };

  core.federation
    .setInboxListeners("/ap/inbox/{+identifier}", "/ap/inbox")
    .on(Follow, guarded(onFollow(core)))
    .on(Undo, guarded(onUndo(core)))
    .on(Accept, guarded(onAccept(core, true)))
    .on(Reject, guarded(onAccept(core, false)))
    .on(
      Create,
      guarded((ctx, a, actor) => handleCreateOrUpdate(core, ctx, a, actor)),
    )
    .on(
      Update,
      guarded((ctx, a, actor) => handleCreateOrUpdate(core, ctx, a, actor)),
    )
    .on(
      Delete,
      guarded((ctx, a, actor) => handleDelete(core, ctx, a, actor)),
    )
    .on(Like, guarded(onLike(core)))
    .on(Announce, guarded(onAnnounce(core)))
    .on(Flag, guarded(onFlag(core)))
    // Also called for deliveries Fedify could not parse: the sender's mistake, not ours.
    .onError((_ctx, error) => log.warn({ err: error }, "inbox delivery failed"));
}

/** The common rules; returns the actor's id, or why the activity is refused. */
export function admit(core: Core, activity: Activity): URL | string {
  const id = activity.id;
  const actor = activity.actorId;
  if (!id || !actor || activity.actorIds.length !== 1) return "needs an id and exactly one actor";
  if (id.host !== actor.host) return "activity id and actor are on different hosts";
  if (actor.origin === new URL(core.options.publicUrl).origin) return "claims to come from here";
  if (core.graph.isBlocked(actor.host)) return "domain blocked";
  const published = epochMs(activity.published);
  if (published !== undefined) {
    const age = Date.now() - published;
    if (age > core.options.maxActivityAgeMs) return "published too long ago";
    if (age < -3600_000) return "published in the future";
  }
  if (!core.graph.markSeen(id.href, actor.href)) return "already processed (replay)";
  return actor;
}

/** The local actor identifier an object URL names, when it is one of ours and exists. */
async function localActor(core: Core, ctx: InboxContext<void>, url: URL | null) {
  const parsed = ctx.parseUri(url);
  if (parsed?.type !== "actor") return undefined;
  const ref = await existingActor(core, parsed.identifier);
  return ref ? { identifier: parsed.identifier, ref } : undefined;
}

function onFollow(core: Core): Handler<Follow> {
  return async (ctx, follow, actorId) => {
    const target = await localActor(core, ctx, follow.objectId);
    if (!target) return;
    const follower = await follow.getActor(ctx);
    if (!isActor(follower) || follower.id?.href !== actorId.href || !follower.inboxId) return;
    core.graph.addFollower(target.identifier, {
      followerId: actorId.href,
      inbox: follower.inboxId.href,
      sharedInbox: follower.endpoints?.sharedInbox?.href,
      followId: follow.id?.href,
    });
    // Everything here that has an actor is public, so every follow is accepted at once.
    await ctx.sendActivity(
      { identifier: target.identifier },
      follower,
      new Accept({
        id: new URL(`/ap/activities/${randomUUID()}`, core.options.publicUrl),
        actor: ctx.getActorUri(target.identifier),
        object: follow,
      }),
    );
  };
}

function onUndo(core: Core): Handler<Undo> {
  return async (ctx, undo, actorId) => {
    const inner = await undo.getObject({ crossOrigin: "ignore", suppressError: true });
    if (!(inner instanceof Activity) || inner.actorId?.href !== actorId.href) return;
    if (inner instanceof Follow) {
      const target = ctx.parseUri(inner.objectId);
      if (target?.type === "actor") core.graph.removeFollower(target.identifier, actorId.href);
    } else if (inner instanceof Like && inner.id) {
      core.social.removeStarByActivity(inner.id.href, actorId.href);
    } else if (inner instanceof Announce && inner.id) {
      core.social.removeBoostByActivity(inner.id.href, actorId.href);
    }
  };
}

function onAccept(core: Core, accepted: boolean): Handler<Accept | Reject> {
  return async (_ctx, _activity, actorId) => {
    // Only the actor we asked may answer our Follow of it.
    const follow = core.graph.following(actorId.href);
    if (!follow || follow.state === (accepted ? "accepted" : "rejected")) return;
    core.graph.setFollowingState(actorId.href, accepted ? "accepted" : "rejected");
    core.log.info(
      { category: "federation.inbox", actor: actorId.href, accepted },
      "follow answered",
    );
    const { mirror } = core.deps;
    if (accepted && follow.kind === "repository" && mirror && follow.registryUrl && follow.name) {
      const result = await mirror.track({
        actorId: follow.actorId,
        registryUrl: follow.registryUrl,
        name: follow.name,
      });
      if (!result.ok)
        core.log.warn({ category: "federation.inbox", reason: result.reason }, "track failed");
    }
  };
}

function onLike(core: Core): Handler<Like> {
  return async (ctx, like, actorId) => {
    const target = await localActor(core, ctx, like.objectId);
    if (target?.ref.kind !== "repository" || !like.objectId) return;
    core.social.addStar(like.objectId.href, actorId.href, "remote", like.id?.href);
  };
}

function onAnnounce(core: Core): Handler<Announce> {
  return async (ctx, announce, actorId) => {
    const objectId = announce.objectId;
    if (!objectId) return;
    const local = await localActor(core, ctx, objectId);
    if (local) {
      if (local.ref.kind !== "repository") return;
      core.social.addBoost(
        objectId.href,
        actorId.href,
        "remote",
        local.ref.name,
        announce.id?.href,
      );
      return;
    }
    if (core.graph.isBlocked(objectId.host)) return;
    // A boost of another instance's repository: learn the repository (for search) from its origin.
    const object = await ctx.lookupObject(objectId);
    if (!object) return;
    const described = await remoteRepositoryOf(object);
    if (!described.ok) return;
    const repository = described.repository;
    const label = repositoryLabel(repository);
    core.graph.putRemoteRepository({
      ...repository,
      host: objectId.host,
      url: object.url instanceof URL ? object.url.href : object.url?.href?.href,
      summary: object.summary?.toString(),
      namespaceActor: object.attributionId?.href,
    });
    core.social.addBoost(objectId.href, actorId.href, "remote", label, announce.id?.href);
  };
}

function onFlag(core: Core): Handler<Flag> {
  return async (ctx, flag, actorId) => {
    const text = (flag.content?.toString() ?? "").slice(0, 5000);
    for (const objectId of flag.objectIds) {
      const target = await localActor(core, ctx, objectId);
      if (!target) continue;
      const label = target.ref.kind === "instance" ? "instance" : target.ref.name;
      core.social.addReport(
        { reporter: actorId.href, origin: "remote", targetActorId: objectId.href, label, text },
        flag.id?.href,
      );
    }
  };
}

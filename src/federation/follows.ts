/**
 * The instance's follows: it follows remote repositories and namespaces from its own actor, and
 * the mirror keeps what it follows (tracking starts when the origin accepts, in the inbox).
 */
import { randomUUID } from "node:crypto";
import { Follow, Undo } from "@fedify/vocab";
import type { Core } from "./core.ts";
import type { FollowingRow } from "./graph-store.ts";
import { instanceIdentifier } from "./names.ts";
import { resolveTarget } from "./resolve.ts";
import { type FollowRecord, SocialError } from "./types.ts";

const activityId = (core: Core) =>
  new URL(`/ap/activities/${randomUUID()}`, core.options.publicUrl);

/** Sends Follow from the instance actor; returns the (pending or already accepted) follow. */
export async function follow(core: Core, target: string): Promise<FollowRecord> {
  const resolved = await resolveTarget(core, target);
  if (resolved.local) throw new SocialError("invalid", "this instance's own actors need no follow");
  const existing = core.graph.following(resolved.actorId.href);
  if (existing?.state === "accepted") return existing;
  const inbox = resolved.actor.inboxId;
  if (!inbox) throw new SocialError("unsupported", `${resolved.label} has no inbox`);
  const ctx = core.context();
  const activity = new Follow({
    id: activityId(core),
    actor: ctx.getActorUri(instanceIdentifier),
    object: resolved.actorId,
  });
  core.graph.putFollowing({
    actorId: resolved.actorId.href,
    kind: resolved.kind,
    label: resolved.label,
    inbox: inbox.href,
    followId: activity.id?.href ?? "",
    state: "pending",
    registryUrl: resolved.repository?.registryUrl,
    name: resolved.repository?.name,
  });
  await ctx.sendActivity({ identifier: instanceIdentifier }, resolved.actor, activity);
  const row = core.graph.following(resolved.actorId.href);
  if (!row) throw new SocialError("not-found", "follow vanished");
  return row;
}

/** Sends Undo(Follow) and stops mirroring; false when the target was not followed. */
export async function unfollow(core: Core, target: string): Promise<boolean> {
  const row = await followingRow(core, target);
  if (!row) return false;
  const ctx = core.context();
  const actor = ctx.getActorUri(instanceIdentifier);
  const original = new Follow({ id: new URL(row.followId), actor, object: new URL(row.actorId) });
  core.graph.removeFollowing(row.actorId);
  if (row.kind === "repository") await core.deps.mirror?.untrack(row.actorId);
  else await untrackThroughNamespace(core, row.actorId);
  if (!core.graph.isBlocked(new URL(row.actorId).host)) {
    await ctx.sendActivity(
      { identifier: instanceIdentifier },
      { id: new URL(row.actorId), inboxId: new URL(row.inbox), endpoints: null },
      new Undo({ id: activityId(core), actor, object: original }),
    );
  }
  return true;
}

export function follows(core: Core): FollowRecord[] {
  return core.graph
    .allFollowing()
    .map(({ actorId, kind, label, state, createdAt, acceptedAt }) => ({
      actorId,
      kind,
      label,
      state,
      createdAt,
      acceptedAt,
    }));
}

/** A follow by what was typed (actor URL, label, handle) without the network when possible. */
async function followingRow(core: Core, target: string): Promise<FollowingRow | undefined> {
  const text = target.trim();
  const byText = core.graph
    .allFollowing()
    .find((r) => r.actorId === text || r.label === text || `@${r.label}` === text);
  if (byText) return byText;
  try {
    const resolved = await resolveTarget(core, text);
    return core.graph.following(resolved.actorId.href);
  } catch {
    return undefined;
  }
}

/** Stops mirroring the repositories that came through a namespace follow (not those followed too). */
async function untrackThroughNamespace(core: Core, namespaceActor: string): Promise<void> {
  const mirror = core.deps.mirror;
  if (!mirror) return;
  for (const mirrored of await mirror.list()) {
    if (core.graph.remoteRepository(mirrored.actorId)?.namespaceActor !== namespaceActor) continue;
    if (core.graph.following(mirrored.actorId)?.kind === "repository") continue;
    await mirror.untrack(mirrored.actorId);
  }
}

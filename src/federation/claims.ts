/**
 * Tag claims: a Create or Update of a Note from a followed repository says "tag T is manifest D";
 * a Delete takes a tag back. Believed only from the repository's own actor, on its own host, in
 * order, and handed to the mirror with the evidence (activity, object, signer, proof).
 */
import type { InboxContext } from "@fedify/fedify";
import { type Create, type Delete, Note, Service, type Update } from "@fedify/vocab";
import type { RemoteRepository } from "../mirror/types.ts";
import type { Core } from "./core.ts";
import { epochMs } from "./names.ts";
import { claimedFacts } from "./notes.ts";
import { remoteRepositoryOf } from "./remote.ts";

/** The repository an actor stands for, if this instance follows it (directly or its namespace). */
async function followedRepository(
  core: Core,
  ctx: InboxContext<void>,
  actorId: URL,
): Promise<RemoteRepository | undefined> {
  const direct = core.graph.following(actorId.href);
  if (direct?.kind === "repository") {
    if (direct.state !== "accepted" || !direct.registryUrl || !direct.name) return undefined;
    return { actorId: actorId.href, registryUrl: direct.registryUrl, name: direct.name };
  }
  // Through a followed namespace: the repository actor must say it belongs to that namespace.
  const actor = await ctx.lookupObject(actorId);
  if (!(actor instanceof Service) || actor.id?.href !== actorId.href) return undefined;
  const namespace = actor.attributionId;
  if (!namespace || namespace.host !== actorId.host) return undefined;
  const follow = core.graph.following(namespace.href);
  if (follow?.kind !== "namespace" || follow.state !== "accepted") return undefined;
  const described = await remoteRepositoryOf(actor);
  if (!described.ok) return undefined;
  core.graph.putRemoteRepository({
    ...described.repository,
    host: actorId.host,
    namespaceActor: namespace.href,
    summary: actor.summary?.toString(),
  });
  return described.repository;
}

/** Why a claim is refused, or the repository it is about. */
function refuse(core: Core, activity: Create | Update | Delete, reason: string): void {
  core.log.warn(
    { category: "federation.claims", activity: activity.id?.href, reason },
    "tag claim refused",
  );
}

export async function handleCreateOrUpdate(
  core: Core,
  ctx: InboxContext<void>,
  activity: Create | Update,
  actorId: URL,
): Promise<void> {
  // An embedded object from another origin is dropped here ("ignore"), never trusted.
  const note = await activity.getObject({ crossOrigin: "ignore", suppressError: true });
  if (!(note instanceof Note) || !note.id)
    return refuse(core, activity, "object missing, not a Note, or on another host");
  if (note.id.host !== actorId.host) return refuse(core, activity, "object on another host");
  if (note.attributionId?.href !== actorId.href)
    return refuse(core, activity, "object attributed to another actor");
  const repository = await followedRepository(core, ctx, actorId);
  if (!repository) return refuse(core, activity, "not a followed repository");
  const facts = await claimedFacts(note);
  if (!facts) return refuse(core, activity, "not a tag Note");
  if (
    facts.repository !== repository.name ||
    new URL(facts.registryUrl).origin !== repository.registryUrl
  )
    return refuse(core, activity, "Note names another repository");
  const published =
    epochMs(note.updated) ?? epochMs(activity.published) ?? epochMs(note.published) ?? Date.now();
  const last = core.graph.remoteTag(actorId.href, facts.tag);
  if (last && last.published > published)
    return refuse(core, activity, "older than the last claim");

  const activityId = activity.id?.href ?? "";
  core.graph.putRemoteTag(actorId.href, facts.tag, {
    digest: facts.digest,
    published,
    activityId,
    objectId: note.id.href,
  });
  core.graph.putRemoteRepository(
    { ...repository, host: actorId.host, url: noteUrl(note) },
    { tag: facts.tag, digest: facts.digest },
  );
  const { mirror } = core.deps;
  if (!mirror) return;
  if (!(await mirror.isTracked(repository.actorId))) {
    const tracked = await mirror.track(repository);
    if (!tracked.ok) return refuse(core, activity, `mirror refused: ${tracked.reason}`);
  }
  const evidence = await proofOf(activity, ctx);
  const result = await mirror.applyTagClaim({
    repository,
    tag: facts.tag,
    digest: facts.digest,
    mediaType: facts.mediaType,
    size: facts.size,
    cid: facts.cid,
    activityId,
    objectId: note.id.href,
    signer: evidence.signer ?? core.signers.get(activityId),
    proof: evidence.proof,
    published: new Date(published),
  });
  core.signers.delete(activityId);
  if (!result.ok) refuse(core, activity, `mirror: ${result.reason}`);
}

export async function handleDelete(
  core: Core,
  ctx: InboxContext<void>,
  activity: Delete,
  actorId: URL,
): Promise<void> {
  const objectId = activity.objectId;
  if (!objectId || objectId.host !== actorId.host) return;
  const known = core.graph.remoteTagByObject(objectId.href);
  if (!known || known.actorId !== actorId.href) return;
  const repository = await followedRepository(core, ctx, actorId);
  if (!repository) return refuse(core, activity, "not a followed repository");
  const published = epochMs(activity.published) ?? Date.now();
  core.graph.putRemoteTag(actorId.href, known.tag, {
    published,
    activityId: activity.id?.href ?? "",
    objectId: objectId.href,
  });
  const result = await core.deps.mirror?.applyTagDeletion(repository, known.tag, {
    activityId: activity.id?.href ?? "",
  });
  if (result && !result.ok) refuse(core, activity, `mirror: ${result.reason}`);
}

/** The activity's object integrity proof: who signed it and the proof itself, as JSON. */
async function proofOf(
  activity: Create | Update,
  ctx: InboxContext<void>,
): Promise<{ signer?: string; proof?: string }> {
  for await (const proof of activity.getProofs({ suppressError: true, crossOrigin: "ignore" })) {
    const json = await proof.toJsonLd({ contextLoader: ctx.contextLoader, format: "compact" });
    return { signer: proof.verificationMethodId?.href, proof: JSON.stringify(json) };
  }
  return {};
}

function noteUrl(note: Note): string | undefined {
  const url = note.url;
  if (url instanceof URL) return url.href;
  return url?.href?.href;
}

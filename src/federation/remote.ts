/** Reading other instances' actors: is it a Flotilla repository, where is its registry. */
import type { Actor, Object as APObject } from "@fedify/vocab";
import { isActor, PropertyValue, Service } from "@fedify/vocab";
import type { RemoteRepository } from "../mirror/types.ts";
import { registryField, repositoryField } from "./actors.ts";
import { hostOf } from "./domains.ts";

/** Name/value attachments of an object (embedded ones only). */
export async function fields(object: APObject): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  for await (const attachment of object.getAttachments({
    suppressError: true,
    crossOrigin: "ignore",
  })) {
    if (!(attachment instanceof PropertyValue)) continue;
    const name = attachment.name?.toString();
    const value = attachment.value?.toString();
    if (name && value !== undefined && !values.has(name)) values.set(name, value);
  }
  return values;
}

/**
 * The repository a Service actor of another Flotilla describes, or why not. Its registry must be
 * on the actor's own host: an actor cannot point mirrors at someone else's registry.
 */
export async function remoteRepositoryOf(
  actor: APObject,
): Promise<{ ok: true; repository: RemoteRepository } | { ok: false; reason: string }> {
  if (!(actor instanceof Service) || !actor.id) return { ok: false, reason: "not a repository" };
  const values = await fields(actor);
  const registryUrl = values.get(registryField);
  const name = values.get(repositoryField);
  if (!registryUrl || !name) return { ok: false, reason: "not a Flotilla repository" };
  let registry: URL;
  try {
    registry = new URL(registryUrl);
  } catch {
    return { ok: false, reason: "invalid registry URL" };
  }
  if (registry.protocol !== "https:" && registry.protocol !== "http:")
    return { ok: false, reason: "invalid registry URL" };
  if (registry.host !== actor.id.host)
    return { ok: false, reason: "registry is on another host than the actor" };
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+$/.test(name))
    return { ok: false, reason: "invalid repository name" };
  return {
    ok: true,
    repository: { actorId: actor.id.href, registryUrl: registry.origin, name },
  };
}

/** `host/name` of a remote repository, for lists. */
export function repositoryLabel(repository: RemoteRepository): string {
  return `${hostOf(repository.actorId) ?? "?"}/${repository.name}`;
}

/** `@user@host` of a remote namespace actor, or its URL. */
export function actorLabel(actor: Actor): string {
  const username = actor.preferredUsername?.toString();
  return username && actor.id ? `@${username}@${actor.id.host}` : (actor.id?.href ?? "?");
}

export { isActor };

/** Turning what a person typed (a name, a handle, a URL) into an actor, here or elsewhere. */
import { type Actor, isActor, Service } from "@fedify/vocab";
import type { RemoteRepository } from "../mirror/types.ts";
import { checkName } from "../registry/index.ts";
import { existingActor, namespaceKind } from "./actors.ts";
import type { Core } from "./core.ts";
import { hostOf } from "./domains.ts";
import { type ActorRef, identifierOf } from "./names.ts";
import { actorLabel, remoteRepositoryOf, repositoryLabel } from "./remote.ts";
import { SocialError } from "./types.ts";

export type Resolved =
  | { local: true; ref: ActorRef; identifier: string; actorId: URL; label: string }
  | {
      local: false;
      actor: Actor;
      actorId: URL;
      kind: "repository" | "namespace";
      repository?: RemoteRepository;
      label: string;
    };

const handlePattern = /^@?([a-z0-9._-]+)@([a-z0-9.-]+(?::\d+)?)$/i;

/** Resolves a target; remote ones are fetched (through Fedify's guarded document loader). */
export async function resolveTarget(core: Core, input: string): Promise<Resolved> {
  const target = input.trim();
  if (!target || target.length > 2000) throw new SocialError("invalid", "empty or too long");
  const ctx = core.context();
  const ours = new URL(core.options.publicUrl);
  const handle = handlePattern.exec(target);
  if (handle?.[2]?.toLowerCase() === ours.host) return local(core, handle[1] ?? "", "namespace");
  if (/^https?:\/\//i.test(target)) {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new SocialError("invalid", `not a URL: ${target}`);
    }
    if (url.origin === ours.origin) {
      const parsed = ctx.parseUri(url);
      if (parsed?.type !== "actor") throw new SocialError("not-found", `no actor at ${url.href}`);
      const ref = await existingActor(core, parsed.identifier);
      if (!ref) throw new SocialError("not-found", `no actor at ${url.href}`);
      return { local: true, ref, identifier: parsed.identifier, actorId: url, label: labelOf(ref) };
    }
    return remote(core, url.href, url.host);
  }
  if (handle) return remote(core, `@${handle[1]}@${handle[2]}`, handle[2] ?? "");
  // A mirrored repository, `<remote-host>/<name>`: its origin's actor.
  const mirrored = (await core.deps.mirror?.list())?.find((m) => m.localName === target);
  if (mirrored) return remote(core, mirrored.actorId, hostOf(mirrored.actorId) ?? "");
  return local(core, target, target.includes("/") ? "repository" : "namespace");
}

async function local(core: Core, name: string, kind: "repository" | "namespace") {
  let ref: ActorRef | undefined;
  if (kind === "repository") {
    try {
      checkName(name);
    } catch {
      throw new SocialError("invalid", `not a repository name: ${name}`);
    }
    if (!(await core.deps.meta.repositoryExists(name)))
      throw new SocialError("not-found", `no repository ${name}`);
    if (!(await core.deps.isPublic(name)))
      throw new SocialError("private", `${name} is private and does not federate`);
    ref = { kind: "repository", name };
  } else {
    const namespaceKindFound = await namespaceKind(core, name);
    if (!namespaceKindFound) throw new SocialError("not-found", `no user or organization ${name}`);
    ref = { kind: namespaceKindFound, name };
  }
  const identifier = identifierOf(ref);
  return {
    local: true as const,
    ref,
    identifier,
    actorId: core.context().getActorUri(identifier),
    label: labelOf(ref),
  };
}

async function remote(core: Core, target: string, host: string): Promise<Resolved> {
  if (core.graph.isBlocked(host)) throw new SocialError("blocked", `${host} is blocked`);
  let object: Awaited<ReturnType<ReturnType<Core["context"]>["lookupObject"]>>;
  try {
    object = await core.context().lookupObject(target);
    if (!object && target.startsWith("@") && core.options.allowPrivateAddress)
      object = await plainHttpHandle(core, target);
  } catch (error) {
    throw new SocialError("not-found", `cannot resolve ${target}: ${(error as Error).message}`);
  }
  if (!isActor(object) || !object.id) throw new SocialError("not-found", `no actor at ${target}`);
  if (core.graph.isBlocked(object.id.host))
    throw new SocialError("blocked", `${object.id.host} is blocked`);
  if (object instanceof Service) {
    const described = await remoteRepositoryOf(object);
    if (!described.ok) throw new SocialError("unsupported", `${target}: ${described.reason}`);
    core.graph.putRemoteRepository({
      ...described.repository,
      host: object.id.host,
      summary: object.summary?.toString(),
      namespaceActor: object.attributionId?.href,
    });
    return {
      local: false,
      actor: object,
      actorId: object.id,
      kind: "repository",
      repository: described.repository,
      label: repositoryLabel(described.repository),
    };
  }
  return {
    local: false,
    actor: object,
    actorId: object.id,
    kind: "namespace",
    label: actorLabel(object),
  };
}

/**
 * WebFinger for `acct:` handles is HTTPS only. Instances on a private network or loopback (where
 * `outbound.allowPrivateAddresses` is on, as in tests) often speak plain HTTP: ask that way too.
 */
async function plainHttpHandle(core: Core, handle: string) {
  const match = handlePattern.exec(handle);
  if (!match) return null;
  const url = new URL(`http://${match[2]}/.well-known/webfinger`);
  url.searchParams.set("resource", `acct:${match[1]}@${match[2]}`);
  // Through the instance's guarded fetcher: its size limit and timeout hold here too.
  const fetcher = core.deps.fetcher;
  if (!fetcher) return null;
  const res = await fetcher.fetchDocument(url.href, {
    headers: { Accept: "application/jrd+json" },
  });
  if (!res.ok || res.status !== 200) return null;
  const jrd = JSON.parse(new TextDecoder().decode(res.bytes)) as {
    links?: Array<{ rel?: string; type?: string; href?: string }>;
  };
  const self = jrd.links?.find((l) => l.rel === "self" && l.type?.includes("activity+json"));
  if (!self?.href || hostOf(self.href) !== match[2]?.toLowerCase()) return null;
  return core.context().lookupObject(self.href);
}

function labelOf(ref: ActorRef): string {
  return ref.kind === "instance" ? "instance" : ref.name;
}

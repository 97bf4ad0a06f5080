/**
 * The actors this instance serves: the instance (Application), users (Person), organizations
 * (Organization) and public repositories (Service). Private repositories have no actor at all.
 */
import type { Context, RequestContext } from "@fedify/fedify";
import {
  type Actor,
  Application,
  Endpoints,
  Organization,
  Person,
  PropertyValue,
  Service,
} from "@fedify/vocab";
import type { Core } from "./core.ts";
import {
  type ActorRef,
  identifierOf,
  instanceIdentifier,
  namespacePageUrl,
  parseIdentifier,
  pullReference,
  repositoryPageUrl,
} from "./names.ts";

/** Attachment names a repository actor carries so other instances can build a RemoteRepository. */
export const registryField = "registry";
export const repositoryField = "repository";

/** Resolves an identifier to an actor this instance actually has (public repositories only). */
export async function existingActor(core: Core, identifier: string): Promise<ActorRef | undefined> {
  const ref = parseIdentifier(identifier);
  if (!ref) return undefined;
  if (ref.kind === "instance") return ref;
  if (ref.kind === "repository") {
    const { meta, isPublic } = core.deps;
    return (await meta.repositoryExists(ref.name)) && (await isPublic(ref.name)) ? ref : undefined;
  }
  const kind = await namespaceKind(core, ref.name);
  return kind === ref.kind ? ref : undefined;
}

/**
 * A namespace is a user or an organization; with access control off there are no accounts, and a
 * namespace that only has repositories acts as an organization.
 */
export async function namespaceKind(core: Core, name: string): Promise<"user" | "org" | undefined> {
  const record = await core.deps.accounts.getNamespace(name);
  if (record) return record.kind;
  const [first] = await core.deps.meta.listRepositories({ last: `${name}/`, limit: 1 });
  return first?.startsWith(`${name}/`) ? "org" : undefined;
}

/** The actor identifier of a repository's namespace. */
export async function namespaceIdentifier(core: Core, repository: string): Promise<string> {
  const namespace = repository.split("/")[0] ?? repository;
  const kind = (await namespaceKind(core, namespace)) ?? "org";
  return identifierOf({ kind, name: namespace });
}

/** Public repositories of a namespace, in name order (at most `limit`). */
export async function namespaceRepositories(
  core: Core,
  namespace: string,
  limit: number,
): Promise<string[]> {
  const found: string[] = [];
  let last = `${namespace}/`;
  while (found.length < limit) {
    const page = await core.deps.meta.listRepositories({ last, limit: 100 });
    const mine = page.filter((name) => name.startsWith(`${namespace}/`));
    for (const name of mine) if (await core.deps.isPublic(name)) found.push(name);
    if (mine.length < page.length || page.length < 100) break;
    last = page[page.length - 1] as string;
  }
  return found.slice(0, limit);
}

/**
 * A repository's WebFinger user name: its name with `/` as `.` (`alice.app` for `alice/app`).
 * Mastodon and others only accept an actor whose handle resolves back to it.
 */
export function repositoryHandle(repository: string): string {
  return repository.replaceAll("/", ".");
}

/**
 * The public repository a handle's user name stands for. Names may contain dots themselves, so
 * each way of reading the dots as `/` is tried (a namespace of the same name wins, before this).
 */
async function repositoryOfHandle(core: Core, username: string): Promise<string | undefined> {
  const parts = username.split(".");
  if (parts.length < 2 || parts.length > 6 || parts.some((p) => !p)) return undefined;
  const slots = parts.length - 1;
  for (let mask = 1; mask < 2 ** slots; mask++) {
    let name = parts[0] as string;
    for (let i = 0; i < slots; i++) name += (mask & (1 << i) ? "/" : ".") + parts[i + 1];
    if (await existingActor(core, identifierOf({ kind: "repository", name }))) return name;
  }
  return undefined;
}

export function registerActors(core: Core): void {
  const { federation } = core;
  const host = new URL(core.options.publicUrl).hostname;
  federation
    .setActorDispatcher("/ap/{+identifier}", async (ctx, identifier) => {
      const ref = await existingActor(core, identifier);
      return ref ? buildActor(core, ctx, identifier, ref) : null;
    })
    .setKeyPairsDispatcher(async (_ctx, identifier) =>
      // Keys only for actors that exist: a request for any made-up name must not create keys.
      (await existingActor(core, identifier)) ? core.keys.pairsOf(identifier) : [],
    )
    .mapHandle(async (_ctx, username) => {
      const kind = await namespaceKind(core, username);
      if (kind) return identifierOf({ kind, name: username });
      const repository = await repositoryOfHandle(core, username);
      if (repository) return identifierOf({ kind: "repository", name: repository });
      return username === host ? instanceIdentifier : null;
    });
}

async function buildActor(
  core: Core,
  ctx: RequestContext<void> | Context<void>,
  identifier: string,
  ref: ActorRef,
): Promise<Actor> {
  const { publicUrl } = core.options;
  const pairs = await ctx.getActorKeyPairs(identifier);
  const common = {
    id: ctx.getActorUri(identifier),
    inbox: ctx.getInboxUri(identifier),
    outbox: ctx.getOutboxUri(identifier),
    followers: ctx.getFollowersUri(identifier),
    following: ctx.getFollowingUri(identifier),
    endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
    publicKey: pairs[0]?.cryptographicKey ?? null,
    assertionMethods: pairs.map((pair) => pair.multikey),
    manuallyApprovesFollowers: false,
    discoverable: true,
  };
  const registry = new PropertyValue({ name: registryField, value: publicUrl });
  switch (ref.kind) {
    case "instance":
      return new Application({
        ...common,
        preferredUsername: new URL(publicUrl).hostname,
        name: `Flotilla at ${new URL(publicUrl).host}`,
        summary: "A federated container registry.",
        url: new URL(publicUrl),
        attachments: [registry],
      });
    case "user":
    case "org": {
      const values = {
        ...common,
        preferredUsername: ref.name,
        name: ref.name,
        summary: `Container images by ${ref.name} on ${new URL(publicUrl).host}.`,
        url: namespacePageUrl(publicUrl, ref.name),
        featured: ctx.getFeaturedUri(identifier),
        attachments: [registry],
      };
      return ref.kind === "user" ? new Person(values) : new Organization(values);
    }
    case "repository": {
      const name = ref.name;
      return new Service({
        ...common,
        preferredUsername: repositoryHandle(name),
        name,
        summary: `<p>Container repository <code>${escapeHtml(name)}</code>. Pull with <code>docker pull ${escapeHtml(pullReference(publicUrl, name))}</code></p>`,
        url: repositoryPageUrl(publicUrl, name),
        attribution: ctx.getActorUri(await namespaceIdentifier(core, name)),
        likes: ctx.getCollectionUri("likes", { identifier }),
        attachments: [registry, new PropertyValue({ name: repositoryField, value: name })],
      });
    }
  }
}

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );
}

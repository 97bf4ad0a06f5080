/** Collections (outbox, followers, following, a repository's likes, featured), Notes, NodeInfo. */
import { Activity, Like, Note, Service } from "@fedify/vocab";
import { existingActor, namespaceRepositories } from "./actors.ts";
import type { Core } from "./core.ts";
import { identifierOf, instanceIdentifier, parseIdentifier } from "./names.ts";

const pageSize = 50;

/** Offset cursors: collections here are small and append-mostly. */
function page(cursor: string | null): number {
  const offset = Number(cursor ?? 0);
  // A cursor is anyone's input: out of range reads as the start (SQLite wants an integer offset).
  return Number.isSafeInteger(offset) && offset >= 0 ? offset : 0;
}

function next(offset: number, got: number): string | null {
  return got < pageSize ? null : String(offset + pageSize);
}

export function registerCollections(core: Core): void {
  const { federation, graph, social } = core;
  // Without a first cursor Fedify asks the dispatcher, which answers 404 for missing (or private)
  // actors; with one it would describe the collection without asking.
  const first = async (identifier: string) =>
    (await existingActor(core, identifier)) ? "0" : null;

  federation
    .setFollowersDispatcher("/ap/followers/{+identifier}", async (_ctx, identifier, cursor) => {
      if (!(await existingActor(core, identifier))) return null;
      const offset = page(cursor);
      const rows = graph.followers(identifier, offset, pageSize);
      return {
        items: rows.map((row) => ({
          id: new URL(row.followerId),
          inboxId: new URL(row.inbox),
          endpoints: row.sharedInbox ? { sharedInbox: new URL(row.sharedInbox) } : null,
        })),
        nextCursor: next(offset, rows.length),
      };
    })
    .setFirstCursor((_ctx, identifier) => first(identifier))
    .setCounter((_ctx, identifier) => graph.followerCount(identifier));

  federation
    .setFollowingDispatcher("/ap/following/{+identifier}", async (_ctx, identifier, cursor) => {
      if (!(await existingActor(core, identifier))) return null;
      // Only the instance actor follows anything (users star and boost instead).
      const all =
        identifier === instanceIdentifier
          ? graph.allFollowing().filter((f) => f.state === "accepted")
          : [];
      const offset = page(cursor);
      const rows = all.slice(offset, offset + pageSize);
      return { items: rows.map((f) => new URL(f.actorId)), nextCursor: next(offset, rows.length) };
    })
    .setFirstCursor((_ctx, identifier) => first(identifier));

  federation
    .setOutboxDispatcher("/ap/outbox/{identifier}", async (ctx, identifier, cursor) => {
      if (!(await existingActor(core, identifier))) return null;
      const offset = page(cursor);
      const rows = social.outbox(identifier, offset, pageSize);
      const items: Activity[] = [];
      for (const json of rows) {
        items.push(
          await Activity.fromJsonLd(JSON.parse(json), { contextLoader: ctx.contextLoader }),
        );
      }
      return { items, nextCursor: next(offset, rows.length) };
    })
    .setFirstCursor((_ctx, identifier) => first(identifier))
    .setCounter((_ctx, identifier) => social.outboxCount(identifier));

  federation.setFeaturedDispatcher("/ap/featured/{+identifier}", async (ctx, identifier) => {
    const ref = await existingActor(core, identifier);
    if (!ref || (ref.kind !== "user" && ref.kind !== "org")) return null;
    // A namespace links its repositories (each a followable Service actor).
    const names = await namespaceRepositories(core, ref.name, 500);
    return {
      items: names.map(
        (name) =>
          new Service({
            id: ctx.getActorUri(identifierOf({ kind: "repository", name })),
            name,
          }),
      ),
    };
  });

  federation
    .setCollectionDispatcher(
      "likes",
      Like,
      "/ap/likes/{+identifier}",
      async (ctx, values, cursor) => {
        const identifier = values.identifier ?? "";
        const ref = await existingActor(core, identifier);
        if (ref?.kind !== "repository") return null;
        const offset = page(cursor);
        const target = ctx.getActorUri(identifier).href;
        const rows = social.stars(target, offset, pageSize);
        return {
          items: rows.map(
            (row) =>
              new Like({
                id: row.activityId ? new URL(row.activityId) : null,
                actor:
                  row.origin === "local"
                    ? ctx.getActorUri(identifierOf({ kind: "user", name: row.liker }))
                    : new URL(row.liker),
                object: new URL(target),
              }),
          ),
          nextCursor: next(offset, rows.length),
        };
      },
    )
    .setFirstCursor(async (_ctx, values) => first(values.identifier ?? ""))
    .setCounter((ctx, values) =>
      social.count("federation_stars", ctx.getActorUri(values.identifier ?? "").href),
    );

  federation.setObjectDispatcher(Note, "/ap/notes/{id}", async (ctx, { id }) => {
    const row = social.noteById(id);
    if (!row) return null;
    if (!(await existingActor(core, identifierOf({ kind: "repository", name: row.repository }))))
      return null;
    return Note.fromJsonLd(JSON.parse(row.json), { contextLoader: ctx.contextLoader });
  });

  federation.setNodeInfoDispatcher("/nodeinfo/2.1", async () => {
    const users = (await core.deps.accounts.listNamespaces()).filter((n) => n.kind === "user");
    const posts = core.deps.database.sql("SELECT count(*) AS n FROM federation_notes").get();
    return {
      software: { name: "flotilla", version: "0.1.0" },
      protocols: ["activitypub"],
      openRegistrations: false,
      usage: {
        users: { total: users.length },
        localPosts: Number(posts?.n ?? 0),
        localComments: 0,
      },
      metadata: { nodeName: new URL(core.options.publicUrl).host },
    };
  });
}

/** Whether an identifier names a local repository actor (for inbox targets). */
export function repositoryOf(identifier: string | null | undefined): string | undefined {
  const ref = identifier ? parseIdentifier(identifier) : undefined;
  return ref?.kind === "repository" ? ref.name : undefined;
}

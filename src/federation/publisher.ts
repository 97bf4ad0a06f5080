/**
 * Pushes become posts: a tag pushed for the first time is a Create of a Note from the repository
 * actor, a tag moved is an Update of the same Note, a deleted tag is a Delete. Sent to the
 * repository's followers and its namespace's. Private repositories publish nothing.
 */

import type { webcrypto } from "node:crypto";
import { randomUUID } from "node:crypto";
import { type ActorKeyPair, signObject } from "@fedify/fedify";
import type { Recipient } from "@fedify/vocab";
import { type Activity, Create, Delete, Note, Tombstone, Update } from "@fedify/vocab";
import {
  manifestPlatforms,
  type RegistryEventMap,
  type RegistryEvents,
} from "../registry/index.ts";
import { namespaceIdentifier } from "./actors.ts";
import type { Core } from "./core.ts";
import { identifierOf, instant } from "./names.ts";
import { buildNote, type TagFacts } from "./notes.ts";

export class Publisher {
  readonly #core: Core;
  /** Work per repository tag runs in order: two quick pushes must not both look like a Create. */
  readonly #chains = new Map<string, Promise<void>>();

  constructor(core: Core) {
    this.#core = core;
  }

  /** Subscribes to registry events; returns the unsubscribe function. */
  attach(events: RegistryEvents): () => void {
    const offs = [
      events.on("manifest.pushed", (e) => {
        if (e.tag) return this.#serial(e.repository, e.tag, () => this.published(e));
      }),
      events.on("tag.deleted", (e) =>
        this.#serial(e.repository, e.tag, () => this.deleted(e.repository, e.tag)),
      ),
      events.on("manifest.deleted", async (e) => {
        await Promise.all(
          e.tags.map((tag) =>
            this.#serial(e.repository, tag, () => this.deleted(e.repository, tag)),
          ),
        );
      }),
    ];
    return () => {
      for (const off of offs) off();
    };
  }

  /** Waits for publishing in progress (tests and shutdown). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.#chains.values()]);
  }

  async published(event: RegistryEventMap["manifest.pushed"]): Promise<void> {
    const core = this.#core;
    const { repository, tag, digest } = event;
    if (!tag || !(await core.deps.isPublic(repository))) return;
    const existing = core.social.note(repository, tag);
    if (existing?.digest === digest) return;
    const ctx = core.context();
    const identifier = identifierOf({ kind: "repository", name: repository });
    const namespace = await namespaceIdentifier(core, repository);
    const id = existing?.id ?? randomUUID();
    const now = Date.now();
    const facts: TagFacts = {
      repository,
      tag,
      digest,
      mediaType: event.mediaType,
      size: event.size,
      platforms: await this.#platforms(repository, digest),
      cid: await core.deps.cidOf?.(digest).catch(() => undefined),
    };
    const note = buildNote(core.options.publicUrl, facts, {
      id: ctx.getObjectUri(Note, { id }),
      actor: ctx.getActorUri(identifier),
      cc: [ctx.getFollowersUri(identifier), ctx.getFollowersUri(namespace)],
      published: existing?.createdAt ?? now,
      updated: existing ? now : undefined,
    });
    const json = JSON.stringify(await note.toJsonLd({ contextLoader: ctx.contextLoader }));
    core.social.putNote({
      repository,
      tag,
      id,
      digest,
      json,
      createdAt: existing?.createdAt ?? now,
    });
    const values = {
      id: this.#activityId(),
      actor: ctx.getActorUri(identifier),
      object: note,
      published: instant(now),
      to: note.toId,
      ccs: note.ccIds,
    };
    await this.#send(identifier, namespace, existing ? new Update(values) : new Create(values), id);
  }

  async deleted(repository: string, tag: string): Promise<void> {
    const core = this.#core;
    const existing = core.social.note(repository, tag);
    if (!existing) return;
    core.social.deleteNote(repository, tag);
    if (!(await core.deps.isPublic(repository).catch(() => false))) return;
    const ctx = core.context();
    const identifier = identifierOf({ kind: "repository", name: repository });
    const namespace = await namespaceIdentifier(core, repository);
    const noteId = ctx.getObjectUri(Note, { id: existing.id });
    const activity = new Delete({
      id: this.#activityId(),
      actor: ctx.getActorUri(identifier),
      object: new Tombstone({ id: noteId, deleted: instant() }),
      published: instant(),
      to: new URL("https://www.w3.org/ns/activitystreams#Public"),
      ccs: [ctx.getFollowersUri(identifier), ctx.getFollowersUri(namespace)],
    });
    await this.#send(identifier, namespace, activity, existing.id);
  }

  async #send(identifier: string, namespace: string, activity: Activity, noteId: string) {
    const core = this.#core;
    const ctx = core.context();
    const seen = new Set<string>();
    const recipients: Recipient[] = [];
    for (const row of [...core.graph.followers(identifier), ...core.graph.followers(namespace)]) {
      if (seen.has(row.followerId)) continue;
      seen.add(row.followerId);
      recipients.push({
        id: new URL(row.followerId),
        inboxId: new URL(row.inbox),
        endpoints: row.sharedInbox ? { sharedInbox: new URL(row.sharedInbox) } : null,
      });
    }
    // Signed here rather than by Fedify on delivery, so the outbox keeps the proof: a claim
    // "tag T = D" stays verifiable later, by anyone, with the repository's Ed25519 key.
    // Fedify's ActorKeyPair extends the DOM's CryptoKeyPair, which Node's types spell differently.
    const pairs = (await ctx.getActorKeyPairs(identifier)) as Array<
      ActorKeyPair & webcrypto.CryptoKeyPair
    >;
    const ed25519 = pairs.find((p) => p.privateKey.algorithm.name === "Ed25519");
    const rsa = pairs.find((p) => p.privateKey.algorithm.name === "RSASSA-PKCS1-v1_5");
    const signed =
      ed25519?.multikey.id && rsa
        ? await signObject(activity, ed25519.privateKey, ed25519.multikey.id, {
            contextLoader: ctx.contextLoader,
          })
        : activity;
    const json = await signed.toJsonLd({ contextLoader: ctx.contextLoader, format: "compact" });
    core.social.addOutbox(activity.id?.href ?? "", identifier, JSON.stringify(json), Date.now());
    if (recipients.length === 0) return;
    // One ordering key per Note: its Create, Updates and Delete arrive in the order they happened.
    // Sending with the RSA key alone keeps Fedify from adding a second proof.
    await ctx.sendActivity(
      rsa ? [{ privateKey: rsa.privateKey, keyId: rsa.keyId }] : { identifier },
      recipients,
      signed,
      { preferSharedInbox: true, orderingKey: noteId, normalizeExistingProofs: true },
    );
    core.log.info(
      { category: "federation.outbox", activity: activity.id?.href, recipients: recipients.length },
      "published",
    );
  }

  async #platforms(repository: string, digest: string): Promise<string[]> {
    const registry = this.#core.deps.registry;
    if (!registry) return [];
    // A Note without platforms still says everything else: an unreadable config is no failure.
    return manifestPlatforms(registry, repository, digest).catch(() => []);
  }

  #activityId(): URL {
    return new URL(`/ap/activities/${randomUUID()}`, this.#core.options.publicUrl);
  }

  #serial(repository: string, tag: string, work: () => Promise<void>): Promise<void> {
    const key = `${repository}:${tag}`;
    const run = (this.#chains.get(key) ?? Promise.resolve()).then(work, work);
    const settled = run.catch((error) =>
      this.#core.log.error({ category: "federation.outbox", err: error }, "publishing failed"),
    );
    this.#chains.set(key, settled);
    settled.then(() => {
      if (this.#chains.get(key) === settled) this.#chains.delete(key);
    });
    return settled;
  }
}

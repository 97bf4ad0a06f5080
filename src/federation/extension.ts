/**
 * Federation as an extension: Fedify 2 in this process, its key-value store and queue in the
 * instance's database, actors and inbox registered, pushes published. `startFederation` is what
 * the instance calls; `openFederation` is the same without the queue worker (for the CLI, whose
 * deliveries the running server's worker sends).
 */
import { createFederation } from "@fedify/fedify";
import { registerActors } from "./actors.ts";
import { registerCollections } from "./collections.ts";
import type { Core, FederationDeps, FederationOptions } from "./core.ts";
import { hostOf } from "./domains.ts";
import { GraphStore } from "./graph-store.ts";
import { InboxGuard, isFederationPath } from "./guard.ts";
import { registerInbox } from "./inbox.ts";
import { ActorKeys } from "./keys.ts";
import { SqliteKvStore } from "./kv-store.ts";
import { forwardFedifyLogs } from "./logging.ts";
import { SqliteMessageQueue, targetHost } from "./message-queue.ts";
import { Publisher } from "./publisher.ts";
import { FederatedSocialService } from "./social.ts";
import { SocialStore } from "./social-store.ts";
import type { SocialService } from "./types.ts";

export interface FederationExtension {
  social: SocialService;
  publisher: Publisher;
  /** Answers WebFinger, NodeInfo and `/ap/*`; anything else gets `undefined` (not ours). */
  fetch(request: Request, clientAddress?: string): Promise<Response | undefined>;
  stop(): Promise<void>;
}

export function openFederation(
  deps: FederationDeps,
  options: FederationOptions,
): { core: Core; queue: SqliteMessageQueue; kv: SqliteKvStore; social: FederatedSocialService } {
  const log = deps.log.child({ category: "federation" });
  const graph = new GraphStore(deps.database);
  const kv = new SqliteKvStore(deps.database);
  const queue = new SqliteMessageQueue(deps.database, log.child({ category: "federation.queue" }), {
    pollMs: options.queuePollMs,
    // Blocked domains get nothing from here, and nothing they sent is processed.
    drop: (message) => graph.isBlocked(targetHost(message) ?? inboxActorHost(message)),
  });
  const federation = createFederation<void>({
    kv,
    queue,
    origin: options.publicUrl,
    manuallyStartQueue: true,
    allowPrivateAddress: options.allowPrivateAddress,
    signatureTimeWindow: { hours: 1 },
    userAgent: { software: "Flotilla/0.1.0", url: new URL(options.publicUrl) },
  });
  const core: Core = {
    deps,
    options,
    graph,
    social: new SocialStore(deps.database),
    keys: new ActorKeys(deps.database),
    federation,
    signers: new Map(),
    context: () => federation.createContext(new URL(options.publicUrl), undefined),
    log,
  };
  registerActors(core);
  registerCollections(core);
  registerInbox(core);
  return { core, queue, kv, social: new FederatedSocialService(core, queue) };
}

export async function startFederation(
  deps: FederationDeps,
  options: FederationOptions,
): Promise<FederationExtension> {
  forwardFedifyLogs(deps.log);
  const { core, kv, social } = openFederation(deps, options);
  const publisher = new Publisher(core);
  const detach = deps.registry ? publisher.attach(deps.registry.events) : () => {};
  const guard = new InboxGuard({
    maxBytes: options.inboxMaxBytes,
    perHostPerMinute: options.inboxPerHostPerMinute,
    isBlocked: (host) => core.graph.isBlocked(host),
    signers: core.signers,
  });
  const controller = new AbortController();
  const worker = core.federation
    .startQueue(undefined, { signal: controller.signal })
    .catch((error) => core.log.error({ err: error }, "federation queue stopped"));
  const housekeeping = setInterval(() => {
    kv.purgeExpired();
    core.graph.forgetSeenBefore(Date.now() - 2 * options.maxActivityAgeMs);
  }, 3600_000);
  housekeeping.unref();

  return {
    social,
    publisher,
    async fetch(request, clientAddress) {
      if (!isFederationPath(new URL(request.url).pathname)) return undefined;
      const checked = await guard.check(request, clientAddress);
      if (checked instanceof Response) return checked;
      try {
        return await core.federation.fetch(checked, {
          contextData: undefined,
          onNotFound: () => new Response("not found", { status: 404 }),
          onNotAcceptable: () =>
            new Response("ask for application/activity+json", {
              status: 406,
              headers: { Vary: "Accept" },
            }),
        });
      } catch (error) {
        // JSON-LD Fedify cannot expand (an unknown @context) throws: the sender's mistake.
        if (checked.method !== "POST") throw error;
        core.log.warn({ category: "federation.inbox", err: error }, "delivery refused");
        return new Response("invalid activity", {
          status: 400,
          headers: { "Content-Type": "text/plain; charset=utf-8" },
        });
      }
    },
    async stop() {
      clearInterval(housekeeping);
      detach();
      await publisher.idle();
      controller.abort();
      await worker;
    },
  };
}

/** The actor host of a queued inbound activity (to drop it when its domain is blocked). */
function inboxActorHost(message: unknown): string | undefined {
  if (typeof message !== "object" || message === null) return undefined;
  const { type, activity } = message as { type?: unknown; activity?: { actor?: unknown } };
  if (type !== "inbox" || typeof activity !== "object" || activity === null) return undefined;
  const actor = activity.actor;
  return hostOf(typeof actor === "string" ? actor : (actor as { id?: string } | undefined)?.id);
}

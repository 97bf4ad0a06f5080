/**
 * The mirror: keeps repositories of other registries here under `<remote-host>/<name>`. Federation
 * hands it authenticated tag claims; it fetches and verifies what they name and stores it through
 * the registry's stores. Nothing a remote says is stored before it checked out.
 */
import type { Logger } from "../log/index.ts";
import type { MetaStore } from "../meta/index.ts";
import type { GuardedFetcher } from "../net/index.ts";
import {
  isValidTag,
  type ManifestService,
  ManifestUnknownError,
  parseDigest,
} from "../registry/index.ts";
import { OriginBlobSource } from "./blob-source.ts";
import { KeyedLock } from "./keyed-lock.ts";
import { type CidFetcher, ManifestImporter } from "./manifests.ts";
import { hostNamespace, mirroredName, registryOrigin } from "./names.ts";
import { OriginClient } from "./origin-client.ts";
import type { SqliteMirrorStore, TrackedRepository } from "./store.ts";
import { syncTags } from "./sync.ts";
import type { Mirror, MirrorResult, MirrorStatus, RemoteRepository, TagClaim } from "./types.ts";

export interface MirrorDeps {
  store: SqliteMirrorStore;
  fetcher: GuardedFetcher;
  meta: MetaStore;
  registry: {
    manifests: Pick<ManifestService, "delete" | "putVerified">;
    /** The registry's blob service: `open` with mode `wait` fetches a missing blob from its sources. */
    blobs: {
      open(
        repository: string,
        digest: string,
        options?: { mode?: "wait"; signal?: AbortSignal },
      ): Promise<{ release(): void }>;
    };
  };
  /** Whether a local user or organization has this name (a mirror must not take it over). */
  namespaceTaken?: (namespace: string) => Promise<boolean>;
  fetchByCid?: CidFetcher;
  log: Logger;
}

export interface MirrorOptions {
  maxManifestBytes: number;
  /** Fetch every blob as soon as its manifest is stored, instead of on the first pull. */
  eagerBlobs: boolean;
  /** On `track`, list the origin's tags and fetch their manifests. */
  syncOnTrack: boolean;
  /** The most tags an initial sync takes. */
  maxSyncTags: number;
}

export class RegistryMirror implements Mirror {
  readonly #deps: MirrorDeps;
  readonly #options: MirrorOptions;
  readonly #log: Logger;
  readonly #origin: OriginClient;
  readonly #importer: ManifestImporter;
  /** One change at a time per mirrored repository. */
  readonly #lock = new KeyedLock();
  #background: Promise<void> = Promise.resolve();
  readonly #stopping = new AbortController();

  constructor(deps: MirrorDeps, options: MirrorOptions) {
    this.#deps = deps;
    this.#options = options;
    this.#log = deps.log.child({ category: "mirror" });
    this.#origin = new OriginClient({ fetcher: deps.fetcher });
    this.#importer = new ManifestImporter(
      {
        origin: this.#origin,
        manifests: deps.registry.manifests,
        meta: deps.meta,
        fetchByCid: deps.fetchByCid,
        log: this.#log,
      },
      { maxManifestBytes: options.maxManifestBytes },
    );
  }

  /** The registry blob source that fetches a mirrored repository's blobs from its origin. */
  blobSource(): OriginBlobSource {
    return new OriginBlobSource({ store: this.#deps.store, origin: this.#origin, log: this.#log });
  }

  localName(repository: RemoteRepository): string {
    return mirroredName(repository.registryUrl, repository.name);
  }

  async track(repository: RemoteRepository): Promise<MirrorResult> {
    let registry: URL;
    let localName: string;
    try {
      registry = registryOrigin(repository.registryUrl);
      localName = this.localName(repository);
    } catch (error) {
      return this.#refuse(repository.actorId, `cannot mirror: ${(error as Error).message}`);
    }
    if (!sameHost(repository.actorId, registry))
      return this.#refuse(repository.actorId, "the actor and its registry are on different hosts");
    const namespace = hostNamespace(registry.href);
    if (await this.#deps.namespaceTaken?.(namespace))
      return this.#refuse(repository.actorId, `a local user or organization is named ${namespace}`);
    const added = this.#deps.store.add({
      actorId: repository.actorId,
      localName,
      hostNamespace: namespace,
      registryUrl: registry.origin,
      name: repository.name,
      trackedAt: new Date(),
    });
    if (!added)
      return this.#refuse(repository.actorId, `${localName} already mirrors another actor`);
    this.#log.info({ localName, actorId: repository.actorId }, "tracking");
    if (!this.#options.syncOnTrack) return { ok: true, localName, tags: 0 };
    const tracked = this.#deps.store.get(repository.actorId) as TrackedRepository;
    return syncTags(
      {
        origin: this.#origin,
        importer: this.#importer,
        store: this.#deps.store,
        lock: this.#lock,
        stored: (name, blobs) => this.#fetchBlobs(name, blobs),
        log: this.#log,
      },
      tracked,
      this.#options.maxSyncTags,
    );
  }

  async untrack(actorId: string): Promise<void> {
    const tracked = this.#deps.store.get(actorId);
    if (!tracked) return;
    await this.#lock.run(tracked.localName, async () => {
      await this.#deps.meta.deleteRepository(tracked.localName);
      this.#deps.store.remove(actorId);
    });
    this.#log.info({ localName: tracked.localName, actorId }, "no longer tracking");
  }

  async isTracked(actorId: string): Promise<boolean> {
    return this.#deps.store.get(actorId) !== undefined;
  }

  async isMirroredRepository(repository: string): Promise<boolean> {
    return this.#deps.store.hasNamespace(repository.split("/")[0] ?? repository);
  }

  async applyTagClaim(claim: TagClaim): Promise<MirrorResult> {
    const actorId = claim.repository.actorId;
    const tracked = this.#deps.store.get(actorId);
    if (!tracked) return this.#refuse(actorId, "the repository is not tracked here", claim);
    if (!sameRepository(tracked, claim.repository))
      return this.#refuse(
        actorId,
        "the claim names another repository than the one tracked",
        claim,
      );
    if (!isValidTag(claim.tag))
      return this.#refuse(actorId, "the claim's tag is not a valid tag", claim);
    try {
      parseDigest(claim.digest);
    } catch {
      return this.#refuse(actorId, "the claim's digest is not a digest", claim);
    }
    const { localName } = tracked;
    const previous = this.#deps.store.tagEvidence(localName, claim.tag);
    if (previous?.published && claim.published < previous.published) {
      this.#log.info(
        { localName, tag: claim.tag, activityId: claim.activityId },
        "older claim ignored",
      );
      return { ok: true, localName, tags: 0 };
    }
    const target = { localName, registry: new URL(tracked.registryUrl), name: tracked.name };
    const result = await this.#lock.run(localName, () =>
      this.#importer.import(
        target,
        claim.digest,
        { digest: claim.digest, size: claim.size, mediaType: claim.mediaType, cid: claim.cid },
        { tag: claim.tag },
      ),
    );
    if (!result.ok) return this.#refuse(actorId, result.reason, claim);
    const now = new Date();
    this.#deps.store.recordTag({
      localName,
      tag: claim.tag,
      digest: result.digest,
      activityId: claim.activityId,
      objectId: claim.objectId,
      signer: claim.signer,
      proof: claim.proof,
      published: claim.published,
      receivedAt: now,
    });
    this.#deps.store.noteClaim(actorId, now);
    this.#log.info({ localName, tag: claim.tag, digest: result.digest }, "tag mirrored");
    this.#fetchBlobs(localName, result.blobs);
    return { ok: true, localName, tags: 1 };
  }

  async applyTagDeletion(
    repository: RemoteRepository,
    tag: string,
    evidence: { activityId: string },
  ): Promise<MirrorResult> {
    const tracked = this.#deps.store.get(repository.actorId);
    if (!tracked) return this.#refuse(repository.actorId, "the repository is not tracked here");
    if (!isValidTag(tag)) return this.#refuse(repository.actorId, "not a valid tag");
    const { localName } = tracked;
    await this.#lock.run(localName, async () => {
      try {
        await this.#deps.registry.manifests.delete(localName, tag);
      } catch (error) {
        if (!(error instanceof ManifestUnknownError)) throw error;
      }
      this.#deps.store.deleteTag(localName, tag);
    });
    this.#deps.store.noteClaim(repository.actorId, new Date());
    this.#log.info(
      { localName, tag, activityId: evidence.activityId },
      "tag deleted by its origin",
    );
    return { ok: true, localName };
  }

  async list(): Promise<MirrorStatus[]> {
    return this.#deps.store.list().map((t) => ({
      localName: t.localName,
      actorId: t.actorId,
      registryUrl: t.registryUrl,
      name: t.name,
      tags: t.tags,
      trackedAt: t.trackedAt,
      lastClaimAt: t.lastClaimAt,
      lastError: t.lastError,
    }));
  }

  /** Resolves when the blobs queued for eager fetching so far are fetched (or failed). */
  idle(): Promise<void> {
    return this.#background;
  }

  /** Cancels eager blob fetches and waits for them to end (before the stores close). */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#background;
  }

  /** With `eagerBlobs`, fetches blobs in the background through the registry's sources. */
  #fetchBlobs(localName: string, blobs: Array<{ digest: string }>): void {
    if (!this.#options.eagerBlobs || this.#stopping.signal.aborted) return;
    const digests = [...new Set(blobs.map((b) => b.digest))];
    this.#background = this.#background.then(async () => {
      const signal = this.#stopping.signal;
      for (const digest of digests) {
        if (signal.aborted) return;
        try {
          (
            await this.#deps.registry.blobs.open(localName, digest, { mode: "wait", signal })
          ).release();
        } catch (error) {
          this.#log.warn({ localName, digest, err: String(error) }, "eager blob fetch failed");
        }
      }
    });
  }

  #refuse(actorId: string, reason: string, claim?: TagClaim): MirrorResult {
    if (this.#deps.store.get(actorId)) this.#deps.store.noteError(actorId, reason);
    this.#log.warn(
      { actorId, tag: claim?.tag, digest: claim?.digest, activityId: claim?.activityId, reason },
      "refused",
    );
    return { ok: false, reason };
  }
}

function sameHost(actorId: string, registry: URL): boolean {
  try {
    const actor = new URL(actorId);
    return actor.host === registry.host;
  } catch {
    return false;
  }
}

function sameRepository(tracked: TrackedRepository, claimed: RemoteRepository): boolean {
  try {
    return (
      registryOrigin(claimed.registryUrl).origin === tracked.registryUrl &&
      claimed.name === tracked.name
    );
  } catch {
    return false;
  }
}

/** Builds the mirror. */
export function createMirror(deps: MirrorDeps, options: MirrorOptions): RegistryMirror {
  return new RegistryMirror(deps, options);
}

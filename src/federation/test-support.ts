/** Federation built on an in-memory database with a fake mirror, for unit tests. */
import { silentLogger } from "../log/index.ts";
import { SqliteAccountStore, SqliteDatabase, SqliteMetaStore } from "../meta/index.ts";
import type { Mirror, MirrorResult, RemoteRepository, TagClaim } from "../mirror/types.ts";
import { RegistryEvents } from "../registry/index.ts";
import type { Core } from "./core.ts";
import { openFederation } from "./extension.ts";
import type { SqliteMessageQueue } from "./message-queue.ts";
import type { FederatedSocialService } from "./social.ts";

/** Records what federation hands the mirror. */
export class FakeMirror implements Mirror {
  readonly claims: TagClaim[] = [];
  readonly deletions: Array<{ repository: RemoteRepository; tag: string; activityId: string }> = [];
  readonly tracked = new Map<string, RemoteRepository>();

  localName(repository: RemoteRepository): string {
    return `${new URL(repository.registryUrl).host.replace(":", "_")}/${repository.name}`;
  }
  async track(repository: RemoteRepository): Promise<MirrorResult> {
    this.tracked.set(repository.actorId, repository);
    return { ok: true, localName: this.localName(repository) };
  }
  async untrack(actorId: string): Promise<void> {
    this.tracked.delete(actorId);
  }
  async isTracked(actorId: string): Promise<boolean> {
    return this.tracked.has(actorId);
  }
  async isMirroredRepository(): Promise<boolean> {
    return false;
  }
  async applyTagClaim(claim: TagClaim): Promise<MirrorResult> {
    this.claims.push(claim);
    return { ok: true, localName: this.localName(claim.repository) };
  }
  async applyTagDeletion(
    repository: RemoteRepository,
    tag: string,
    evidence: { activityId: string },
  ): Promise<MirrorResult> {
    this.deletions.push({ repository, tag, activityId: evidence.activityId });
    return { ok: true, localName: this.localName(repository) };
  }
  async list() {
    return [];
  }
}

export interface Harness {
  core: Core;
  social: FederatedSocialService;
  queue: SqliteMessageQueue;
  mirror: FakeMirror;
  meta: SqliteMetaStore;
  accounts: SqliteAccountStore;
  events: RegistryEvents;
  /** Repositories that are private (everything else is public). */
  privateRepositories: Set<string>;
  close(): void;
}

export function federationHarness(publicUrl = "https://here.example"): Harness {
  const database = new SqliteDatabase(":memory:");
  const meta = new SqliteMetaStore({ database });
  const accounts = new SqliteAccountStore(database);
  const mirror = new FakeMirror();
  const events = new RegistryEvents();
  const privateRepositories = new Set<string>();
  const { core, social, queue } = openFederation(
    {
      database,
      meta,
      accounts,
      mirror,
      isPublic: async (repository) => !privateRepositories.has(repository),
      log: silentLogger(),
    },
    {
      publicUrl,
      allowPrivateAddress: false,
      inboxMaxBytes: 64 * 1024,
      inboxPerHostPerMinute: 100,
      maxActivityAgeMs: 48 * 3600_000,
    },
  );
  return {
    core,
    social,
    queue,
    mirror,
    meta,
    accounts,
    events,
    privateRepositories,
    close: () => database.close(),
  };
}

/**
 * The initial sync of a newly tracked repository. The tag list comes from the origin's own
 * registry, without a signed claim per tag: that registry is as trustworthy as its actor documents
 * (same host, which federation checked signs for the repository). Every manifest is still verified
 * against its digest and parsed like a push.
 */
import type { Logger } from "../log/index.ts";
import { type Descriptor, isValidTag } from "../registry/index.ts";
import type { KeyedLock } from "./keyed-lock.ts";
import type { ManifestImporter } from "./manifests.ts";
import type { OriginClient } from "./origin-client.ts";
import type { SqliteMirrorStore, TrackedRepository } from "./store.ts";
import type { MirrorResult } from "./types.ts";

export interface SyncDeps {
  origin: OriginClient;
  importer: ManifestImporter;
  store: SqliteMirrorStore;
  lock: KeyedLock;
  /** Called with the blobs of each stored tag (eager fetching). */
  stored: (localName: string, blobs: Descriptor[]) => void;
  log: Logger;
}

/** Lists the origin's tags (at most `maxTags`) and mirrors each; failures of single tags are noted. */
export async function syncTags(
  deps: SyncDeps,
  tracked: TrackedRepository,
  maxTags: number,
): Promise<MirrorResult> {
  const { localName } = tracked;
  const registry = new URL(tracked.registryUrl);
  const listed = await deps.origin.tags(registry, tracked.name, { max: maxTags });
  if (!listed.ok) {
    deps.store.noteError(tracked.actorId, `initial sync: ${listed.reason}`);
    deps.log.warn({ localName, reason: listed.reason }, "initial sync failed");
    return { ok: true, localName, tags: 0, problems: [listed.reason] };
  }
  const target = { localName, registry, name: tracked.name };
  const problems: string[] = [];
  let stored = 0;
  for (const tag of listed.tags) {
    // A tag a signed claim already set is newer than anything a sync could say.
    if (!isValidTag(tag) || deps.store.tagEvidence(localName, tag)?.activityId) continue;
    const result = await deps.lock.run(localName, () =>
      deps.importer.import(target, tag, {}, { tag }),
    );
    if (!result.ok) {
      problems.push(`${tag}: ${result.reason}`);
      continue;
    }
    stored++;
    deps.store.recordTag({ localName, tag, digest: result.digest, receivedAt: new Date() });
    deps.stored(localName, result.blobs);
  }
  if (problems.length) {
    deps.store.noteError(tracked.actorId, `initial sync: ${problems[0]}`);
    deps.log.warn({ localName, problems }, "some tags were not mirrored");
  }
  deps.log.info({ localName, tags: stored }, "initial sync done");
  return { ok: true, localName, tags: stored, problems };
}

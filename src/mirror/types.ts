/**
 * The contract between federation (which verifies who said what) and the mirror (which keeps
 * remote repositories here). Federation hands over only claims it has already authenticated:
 * signed by an actor on the host that owns the repository. The mirror verifies content.
 */

/** A repository on another Flotilla instance, as its repository actor describes it. */
export interface RemoteRepository {
  /** ActivityPub id of the repository actor on its origin. */
  actorId: string;
  /** Base URL of the origin's registry API, e.g. `http://127.0.0.1:5001` (same host as actorId). */
  registryUrl: string;
  /** Repository name on the origin, e.g. `alice/app`. */
  name: string;
}

/** "Tag T of repository R is manifest D", as a signed Note from R's origin said it. */
export interface TagClaim {
  repository: RemoteRepository;
  tag: string;
  digest: string;
  mediaType: string;
  size: number;
  /** The UnixFS CID of the manifest on the origin, when it has one. */
  cid?: string;
  /** Evidence, kept with the tag: the activity, its object, the key that signed it. */
  activityId: string;
  objectId: string;
  signer?: string;
  /** The object integrity proof as JSON, when the activity carried one. */
  proof?: string;
  published: Date;
}

/** Expected failures come back as values (a bad claim from a remote is not an exception here). */
export type MirrorResult =
  | {
      ok: true;
      localName: string;
      /** Tags stored by this call (the initial sync of `track`, or 1 for a claim). */
      tags?: number;
      /** What went wrong for single tags while the call as a whole succeeded (initial sync). */
      problems?: string[];
    }
  | { ok: false; reason: string };

export interface MirrorStatus {
  localName: string;
  actorId: string;
  registryUrl: string;
  name: string;
  tags: number;
  trackedAt: Date;
  lastClaimAt?: Date;
  lastError?: string;
}

/** What federation calls; implemented by `src/mirror/`. */
export interface Mirror {
  /** The name a remote repository is served under here: `<remote-host>/<name>` (`:` as `_`). */
  localName(repository: RemoteRepository): string;
  /** Starts keeping a remote repository (after its origin accepted our Follow). */
  track(repository: RemoteRepository): Promise<MirrorResult>;
  /** Stops keeping it; its tags go, its blobs become garbage for GC. */
  untrack(actorId: string): Promise<void>;
  isTracked(actorId: string): Promise<boolean>;
  /** Records a tag: fetches the manifest (and an index's child manifests), verifies, stores. */
  applyTagClaim(claim: TagClaim): Promise<MirrorResult>;
  /** The origin deleted a tag. */
  applyTagDeletion(
    repository: RemoteRepository,
    tag: string,
    evidence: { activityId: string },
  ): Promise<MirrorResult>;
  list(): Promise<MirrorStatus[]>;
  /**
   * Whether a local repository name is (or is inside the host namespace of) a mirror. The mirror
   * writes manifests through the registry's stores and emits `manifest.pushed` like a push, so
   * IPFS shares them; federation should not announce these as local pushes.
   */
  isMirroredRepository(repository: string): Promise<boolean>;
}

/**
 * What a client may believe about its repository after a crash: acknowledged writes are durable,
 * and a write cut short by the kill either happened or did not. Each fact keeps the set of states
 * the server may show; after a restart the harness reads the real state, checks it is one of
 * them, and narrows the set to it.
 */

/** `true` present, `false` absent. */
export type Possible = Set<boolean>;

export interface BlobFact {
  size: number;
  possible: Possible;
}

export interface ManifestFact {
  bytes: Buffer;
  mediaType: string;
  /** Manifests this one (an index) refers to; they are never deleted while it may exist. */
  children: string[];
  /** Blobs this one (an image manifest) refers to. */
  blobs: string[];
  possible: Possible;
}

export interface PendingUpload {
  location: string;
  data: Buffer;
  digest: string;
  /** Bytes the server acknowledged. */
  acked: number;
  /** Bytes written to a connection (acknowledged or not). */
  sent: number;
  /** A PUT was in flight when the server died: the upload may have become a blob. */
  finishing: boolean;
}

export class RepositoryModel {
  readonly name: string;
  readonly blobs = new Map<string, BlobFact>();
  readonly manifests = new Map<string, ManifestFact>();
  /** Tag → the digests it may point at (`null`: no such tag). */
  readonly tags = new Map<string, Set<string | null>>();
  readonly uploads: PendingUpload[] = [];

  constructor(name: string) {
    this.name = name;
  }

  /** Digests of blobs certainly present (safe to reference from a manifest). */
  presentBlobs(): string[] {
    return [...this.blobs].filter(([, f]) => only(f.possible, true)).map(([d]) => d);
  }

  presentManifests(): string[] {
    return [...this.manifests].filter(([, f]) => only(f.possible, true)).map(([d]) => d);
  }

  /** A manifest some index that may exist refers to (deleting it would leave a dangling index). */
  isChild(digest: string): boolean {
    for (const fact of this.manifests.values()) {
      if (fact.possible.has(true) && fact.children.includes(digest)) return true;
    }
    return false;
  }

  blobWritten(digest: string, size: number, acked: boolean): void {
    const fact = this.blobs.get(digest) ?? { size, possible: new Set<boolean>([false]) };
    if (acked) fact.possible = new Set([true]);
    else fact.possible.add(true);
    this.blobs.set(digest, fact);
  }

  blobDeleted(digest: string, acked: boolean): void {
    const fact = this.blobs.get(digest);
    if (!fact) return;
    if (acked) fact.possible = new Set([false]);
    else fact.possible.add(false);
  }

  manifestWritten(
    digest: string,
    fact: Omit<ManifestFact, "possible">,
    tag: string | undefined,
    acked: boolean,
  ): void {
    const known = this.manifests.get(digest) ?? { ...fact, possible: new Set<boolean>([false]) };
    if (acked) known.possible = new Set([true]);
    else known.possible.add(true);
    this.manifests.set(digest, known);
    if (tag === undefined) return;
    const targets = this.tags.get(tag) ?? new Set<string | null>([null]);
    this.tags.set(tag, acked ? new Set([digest]) : targets.add(digest));
  }

  manifestDeleted(digest: string, acked: boolean): void {
    const fact = this.manifests.get(digest);
    if (fact) {
      if (acked) fact.possible = new Set([false]);
      else fact.possible.add(false);
    }
    // Deleting a manifest deletes every tag on it.
    for (const targets of this.tags.values()) {
      if (!targets.has(digest)) continue;
      if (acked) targets.delete(digest);
      targets.add(null);
    }
  }

  tagDeleted(tag: string, acked: boolean): void {
    const targets = this.tags.get(tag);
    if (!targets) return;
    if (acked) targets.clear();
    targets.add(null);
  }
}

export function only(possible: Possible, value: boolean): boolean {
  return possible.size === 1 && possible.has(value);
}

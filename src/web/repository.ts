/** A repository's page data (tags, pull commands, social counts, origin) and a manifest's details. */
import { namespaceOf } from "../accounts/index.ts";
import type { Visibility } from "../meta/index.ts";
import { NameUnknownError } from "../registry/index.ts";
import type { WebAccess } from "./access.ts";
import { type Catalog, hostOf } from "./catalog.ts";
import type { WebStore } from "./store.ts";
import type { TagDetail, Viewer, WebDeps } from "./types.ts";

export interface RepositoryDetail {
  name: string;
  instance: string;
  description: string;
  readme: string;
  visibility: Visibility | "inherit";
  tags: TagDetail[];
  pull: { tag?: string; digest?: string; cid?: string };
  handle?: string;
  actorUrl?: string;
  counts?: { stars: number; boosts: number; followers: number };
  starred: boolean;
  origin?: {
    registryUrl: string;
    name: string;
    actorId: string;
    lastClaimAt?: string;
    lastError?: string;
  };
  can: { push: boolean; manage: boolean };
}

export interface ManifestDetail {
  repository: string;
  digest: string;
  mediaType: string;
  size: number;
  platforms: string[];
  cid?: string;
  config?: { digest: string; size: number; mediaType: string };
  layers: Array<{ digest: string; size: number; mediaType: string }>;
  manifests: Array<{ digest: string; size: number; mediaType: string; platform?: string }>;
  annotations: Record<string, string>;
  referrers: Array<{ digest: string; artifactType?: string; mediaType: string }>;
  tags: string[];
}

export class RepositoryPages {
  readonly #deps: Pick<WebDeps, "registry" | "accounts" | "social" | "cidOf">;
  readonly #store: WebStore;
  readonly #access: WebAccess;
  readonly #catalog: Catalog;
  readonly #host: string;

  constructor(
    deps: Pick<WebDeps, "registry" | "accounts" | "social" | "cidOf">,
    parts: { store: WebStore; access: WebAccess; catalog: Catalog; publicUrl: string },
  ) {
    this.#deps = deps;
    this.#store = parts.store;
    this.#access = parts.access;
    this.#catalog = parts.catalog;
    this.#host = new URL(parts.publicUrl).host;
  }

  get host(): string {
    return this.#host;
  }

  /** Everything the repository page shows; NAME_UNKNOWN when missing or not readable. */
  async detail(viewer: Viewer, name: string): Promise<RepositoryDetail> {
    await this.#access.requireRead(viewer, name);
    if (!this.#store.exists(name)) throw new NameUnknownError(name);
    const signed = this.#store.signedDigests(name);
    const tags: TagDetail[] = [];
    for (const t of this.#store.tags(name)) {
      tags.push({
        name: t.name,
        digest: t.digest,
        mediaType: t.mediaType,
        size: await this.sizeOf(name, t.digest),
        platforms: this.#store.platformsOf(name, t.digest),
        pushedAt: t.updatedAt,
        signed: signed.has(t.digest),
      });
    }
    const latest = tags.find((t) => t.name === "latest") ?? tags[0];
    const mirrors = await this.#catalog.mirrors();
    const mirror = mirrors.get(name);
    const social = this.#deps.social;
    const local = !mirror;
    let counts: RepositoryDetail["counts"];
    let starred = false;
    if (social) {
      counts = await social.counts(name).catch(() => undefined);
      if (viewer.user) starred = await social.isStarred(viewer.user, name).catch(() => false);
    }
    const own = await this.#deps.accounts.store.repositoryVisibility(name);
    const about = this.#store.about(name);
    return {
      name,
      instance: mirror ? hostOf(mirror.registryUrl) : "local",
      description: about.description,
      readme: about.readme,
      visibility: own ?? "inherit",
      tags,
      pull: {
        tag: latest ? `${this.#host}/${name}:${latest.name}` : undefined,
        digest: latest ? `${this.#host}/${name}@${latest.digest}` : undefined,
        cid: latest ? await this.#cidPull(latest.digest) : undefined,
      },
      handle: social && local ? safe(() => social.handleOf(namespaceOf(name))) : undefined,
      actorUrl: social && local ? safe(() => social.actorUrlOf(name)) : undefined,
      counts,
      starred,
      origin: mirror && {
        registryUrl: mirror.registryUrl,
        name: mirror.name,
        actorId: mirror.actorId,
        lastClaimAt: mirror.lastClaimAt?.toISOString(),
        lastError: mirror.lastError,
      },
      can: {
        push: await this.#access.canPush(viewer, name),
        manage: await this.#access.canAdminister(viewer, namespaceOf(name)),
      },
    };
  }

  /**
   * A manifest with everything it references, from the descriptors (a mirror's blobs may not be
   * here yet); an index counts its child manifests.
   */
  async sizeOf(repository: string, digest: string, depth = 0): Promise<number> {
    const stored = await this.#deps.registry.manifests.get(repository, digest);
    const json = JSON.parse(new TextDecoder().decode(stored.bytes)) as {
      config?: { size?: number };
      layers?: Array<{ size?: number }>;
      manifests?: Array<{ digest: string; size?: number }>;
    };
    let total = stored.bytes.byteLength + Number(json.config?.size ?? 0);
    for (const layer of json.layers ?? []) total += Number(layer.size ?? 0);
    for (const child of json.manifests ?? []) {
      total +=
        depth < 2
          ? await this.sizeOf(repository, child.digest, depth + 1).catch(() =>
              Number(child.size ?? 0),
            )
          : Number(child.size ?? 0);
    }
    return total;
  }

  async #cidPull(digest: string): Promise<string | undefined> {
    const cid = await this.#deps.cidOf?.(digest).catch(() => undefined);
    return cid ? `${this.#host}/ipfs/${cid}` : undefined;
  }

  /** A manifest's layers, config, children, platforms and referrers. */
  async manifest(viewer: Viewer, name: string, reference: string): Promise<ManifestDetail> {
    await this.#access.requireRead(viewer, name);
    const stored = await this.#deps.registry.manifests.get(name, reference);
    const json = JSON.parse(new TextDecoder().decode(stored.bytes)) as {
      config?: Descriptor;
      layers?: Descriptor[];
      manifests?: Array<
        Descriptor & { platform?: { os: string; architecture: string; variant?: string } }
      >;
      annotations?: Record<string, string>;
    };
    const referrers = await this.#deps.registry.manifests.referrers(name, stored.digest);
    const tags = this.#store
      .tags(name)
      .filter((t) => t.digest === stored.digest)
      .map((t) => t.name);
    const cid = await this.#deps.cidOf?.(stored.digest).catch(() => undefined);
    return {
      repository: name,
      digest: stored.digest,
      mediaType: stored.mediaType,
      size: await this.sizeOf(name, stored.digest),
      platforms: this.#store.platformsOf(name, stored.digest),
      cid,
      config: json.config && pick(json.config),
      layers: (json.layers ?? []).map(pick),
      manifests: (json.manifests ?? []).map((m) => ({
        ...pick(m),
        platform: m.platform
          ? [m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join("/")
          : undefined,
      })),
      annotations: json.annotations ?? {},
      referrers: referrers.manifests.map((r) => ({
        digest: r.digest,
        mediaType: r.mediaType,
        artifactType: r.artifactType,
      })),
      tags,
    };
  }

  /** Changes description, README and visibility (owners of the namespace and administrators). */
  async update(
    viewer: Viewer,
    name: string,
    changes: { description?: string; readme?: string; visibility?: Visibility | "inherit" },
  ): Promise<void> {
    await this.#access.requireManage(viewer, name);
    if (!this.#store.exists(name)) throw new NameUnknownError(name);
    if (changes.description !== undefined || changes.readme !== undefined) {
      this.#store.setAbout(name, { description: changes.description, readme: changes.readme });
    }
    if (changes.visibility) {
      await this.#deps.accounts.store.setRepositoryVisibility(
        name,
        changes.visibility === "inherit" ? null : changes.visibility,
      );
    }
  }
}

interface Descriptor {
  digest: string;
  size: number;
  mediaType: string;
}

function pick(d: Descriptor): Descriptor {
  return { digest: String(d.digest), size: Number(d.size), mediaType: String(d.mediaType) };
}

function safe(work: () => string): string | undefined {
  try {
    return work();
  } catch {
    return undefined;
  }
}

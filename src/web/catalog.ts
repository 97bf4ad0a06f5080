/** Repository summaries, search across local and known remote repositories, the home page's lists. */
import type { KnownRemoteRepository } from "../federation/types.ts";
import type { MirrorStatus } from "../mirror/types.ts";
import type { WebAccess } from "./access.ts";
import type { RepositoryRow, WebStore } from "./store.ts";
import type { RepositorySummary, SearchFilters, Viewer, WebDeps } from "./types.ts";

export interface HomeData {
  recent: RepositorySummary[];
  mirrored: RepositorySummary[];
  boosted: Array<{ label: string; actorId: string; by: string; createdAt: string; local?: string }>;
  starred: RepositorySummary[];
  federation: boolean;
}

export class Catalog {
  readonly #deps: Pick<WebDeps, "social" | "mirrors" | "log">;
  readonly #store: WebStore;
  readonly #access: WebAccess;

  constructor(
    deps: Pick<WebDeps, "social" | "mirrors" | "log">,
    store: WebStore,
    access: WebAccess,
  ) {
    this.#deps = deps;
    this.#store = store;
    this.#access = access;
  }

  /** Mirrored repositories here, by local name. */
  async mirrors(): Promise<Map<string, MirrorStatus>> {
    const list = (await this.#deps.mirrors?.list().catch(() => [])) ?? [];
    return new Map(list.map((m) => [m.localName, m]));
  }

  async stars(target: string): Promise<number> {
    if (!this.#deps.social) return 0;
    try {
      return (await this.#deps.social.counts(target)).stars;
    } catch {
      return 0;
    }
  }

  /** Ranked search: exact name > prefix > substring > description/tags; then stars, recency. */
  async search(viewer: Viewer, filters: SearchFilters): Promise<RepositorySummary[]> {
    const mirrors = await this.mirrors();
    const instance = filters.instance?.trim().toLowerCase() || undefined;
    let names: string[] | undefined;
    if (instance && instance !== "local") {
      names = [...mirrors.values()]
        .filter((m) => hostOf(m.registryUrl) === instance)
        .map((m) => m.localName);
    }
    const rows = this.#store.search({
      query: filters.query,
      namespace: filters.namespace || undefined,
      platform: filters.platform || undefined,
      signed: filters.signed,
      names,
      limit: filters.limit * 3 + 50,
    });
    const results: Array<RepositorySummary & { score: number }> = [];
    for (const row of rows) {
      if (instance === "local" && mirrors.has(row.name)) continue;
      if (!(await this.#access.canRead(viewer, row.name))) continue;
      results.push({ ...(await this.summary(row, mirrors)), score: row.score });
      if (results.length >= filters.limit * 2) break;
    }
    if (!filters.platform && !filters.signed && instance !== "local") {
      for (const remote of await this.#remote(filters, mirrors)) results.push(remote);
    }
    results.sort(
      (a, b) =>
        a.score - b.score ||
        b.stars - a.stars ||
        (b.lastPushAt ?? 0) - (a.lastPushAt ?? 0) ||
        a.name.localeCompare(b.name),
    );
    return results.slice(0, filters.limit).map(({ score: _, ...rest }) => rest);
  }

  /** Remote repositories federation has seen and that are not mirrored here already. */
  async #remote(
    filters: SearchFilters,
    mirrors: Map<string, MirrorStatus>,
  ): Promise<Array<RepositorySummary & { score: number }>> {
    const social = this.#deps.social;
    if (!social) return [];
    let known: KnownRemoteRepository[];
    try {
      known = await social.knownRemoteRepositories({
        query: filters.query || undefined,
        limit: filters.limit * 2,
      });
    } catch (error) {
      this.#deps.log.warn({ err: error }, "known remote repositories unavailable");
      return [];
    }
    const mirrored = new Set([...mirrors.values()].map((m) => m.actorId));
    const q = filters.query.trim().toLowerCase();
    const instance = filters.instance?.trim().toLowerCase();
    const out: Array<RepositorySummary & { score: number }> = [];
    for (const repo of known) {
      if (mirrored.has(repo.actorId)) continue;
      if (instance && repo.host.toLowerCase() !== instance) continue;
      if (filters.namespace && !repo.name.startsWith(`${filters.namespace}/`)) continue;
      const score = scoreOf(repo.name, repo.summary ?? "", q);
      if (score === undefined) continue;
      out.push({
        name: `${repo.host}/${repo.name}`,
        instance: repo.host,
        description: repo.summary ?? "",
        tags: repo.lastTag ? 1 : 0,
        lastPushAt: repo.lastSeenAt.getTime(),
        platforms: [],
        signed: false,
        stars: await this.stars(repo.actorId),
        remote: {
          actorId: repo.actorId,
          registryUrl: repo.registryUrl,
          url: repo.url,
          followed: repo.followed,
        },
        score,
      });
    }
    return out;
  }

  async summary(
    row: RepositoryRow,
    mirrors: Map<string, MirrorStatus>,
  ): Promise<RepositorySummary> {
    const mirror = mirrors.get(row.name);
    return {
      name: row.name,
      instance: mirror ? hostOf(mirror.registryUrl) : "local",
      description: row.description,
      tags: row.tags,
      lastPushAt: row.lastPushAt,
      platforms: this.#store.repositoryPlatforms(row.name),
      signed: this.#store.signedDigests(row.name).size > 0,
      stars: await this.stars(row.name),
    };
  }

  /** Recent pushes here, recently mirrored, the curated list, most starred. */
  async home(viewer: Viewer): Promise<HomeData> {
    const mirrors = await this.mirrors();
    const readable: RepositorySummary[] = [];
    for (const row of this.#store.search({ query: "", limit: 200 })) {
      if (!(await this.#access.canRead(viewer, row.name))) continue;
      readable.push(await this.summary(row, mirrors));
    }
    const local = readable.filter((r) => r.instance === "local");
    const mirrored = readable
      .filter((r) => r.instance !== "local")
      .sort((a, b) => lastClaim(mirrors, b.name) - lastClaim(mirrors, a.name));
    const starred = readable
      .filter((r) => r.stars > 0)
      .sort((a, b) => b.stars - a.stars || (b.lastPushAt ?? 0) - (a.lastPushAt ?? 0));
    let boosted: HomeData["boosted"] = [];
    if (this.#deps.social) {
      const byActor = new Map<string, string>();
      for (const m of mirrors.values()) byActor.set(m.actorId, m.localName);
      boosted = (await this.#deps.social.boosts().catch(() => [])).slice(0, 12).map((b) => ({
        label: b.label,
        actorId: b.actorId,
        by: b.by,
        createdAt: b.createdAt.toISOString(),
        local: byActor.get(b.actorId) ?? localNameOf(b.label, readable),
      }));
    }
    return {
      recent: local.slice(0, 12),
      mirrored: mirrored.slice(0, 12),
      boosted,
      starred: starred.slice(0, 12),
      federation: this.#deps.social !== undefined,
    };
  }
}

/** The same ranking as the SQL one, for remote repositories. */
export function scoreOf(name: string, description: string, q: string): number | undefined {
  const lower = name.toLowerCase();
  const short = lower.slice(lower.indexOf("/") + 1);
  if (!q) return 4;
  if (lower === q || short === q) return 0;
  if (lower.startsWith(q) || short.startsWith(q)) return 1;
  if (lower.includes(q)) return 2;
  if (description.toLowerCase().includes(q)) return 3;
  return undefined;
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return url;
  }
}

function lastClaim(mirrors: Map<string, MirrorStatus>, name: string): number {
  const m = mirrors.get(name);
  return (m?.lastClaimAt ?? m?.trackedAt)?.getTime() ?? 0;
}

/** A boost label `host/name` of one of our own repositories is that repository. */
function localNameOf(label: string, readable: RepositorySummary[]): string | undefined {
  const slash = label.indexOf("/");
  const name = label.slice(slash + 1);
  return readable.some((r) => r.name === name && r.instance === "local") ? name : undefined;
}

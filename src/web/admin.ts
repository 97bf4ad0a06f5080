/** Administrators' view: instance settings, storage, mirrors, blocked domains, reports. */
import type { BlockedDomain, ReportRecord } from "../federation/types.ts";
import type { MirrorStatus } from "../mirror/types.ts";
import { OciError } from "../registry/index.ts";
import type { WebAccess } from "./access.ts";
import { socialCall } from "./actions.ts";
import type { WebStore } from "./store.ts";
import type { LifecycleRun, Viewer, WebDeps } from "./types.ts";

export interface AdminOverview {
  settings: { name: string; description: string };
  storage: { blobs: number; bytes: number; repositories: number };
  federation: boolean;
  mirrors?: MirrorStatus[];
  blockedDomains?: BlockedDomain[];
  reports?: ReportRecord[];
  /** Latest GC and retention runs, when the storage lifecycle is on. */
  runs?: Array<LifecycleRun & { bytesFreed?: number }>;
}

const domainPattern =
  /^(?=.{1,253}$)[a-z0-9*]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/;

export class AdminPages {
  readonly #deps: Pick<WebDeps, "social" | "mirrors" | "lifecycleRuns">;
  readonly #store: WebStore;
  readonly #access: WebAccess;
  readonly #defaults: { name: string; description: string };

  constructor(
    deps: Pick<WebDeps, "social" | "mirrors" | "lifecycleRuns">,
    parts: { store: WebStore; access: WebAccess; defaults: { name: string; description: string } },
  ) {
    this.#deps = deps;
    this.#store = parts.store;
    this.#access = parts.access;
    this.#defaults = parts.defaults;
  }

  /** The instance's name and description (administrators may override the configured ones). */
  settings(): { name: string; description: string } {
    return {
      name: this.#store.setting("instance.name") ?? this.#defaults.name,
      description: this.#store.setting("instance.description") ?? this.#defaults.description,
    };
  }

  async overview(viewer: Viewer): Promise<AdminOverview> {
    this.#access.requireAdmin(viewer);
    const social = this.#deps.social;
    return {
      settings: this.settings(),
      storage: this.#store.storage(),
      federation: social !== undefined,
      mirrors: await this.#deps.mirrors?.list(),
      blockedDomains: await social?.blockedDomains(),
      reports: await social?.reports({ includeResolved: false }),
      runs: (await this.#deps.lifecycleRuns?.(10))?.map((run) => ({
        ...run,
        bytesFreed: freed(run.report),
      })),
    };
  }

  updateSettings(viewer: Viewer, input: { name?: string; description?: string }): void {
    this.#access.requireAdmin(viewer);
    const name = input.name?.trim();
    if (name !== undefined) {
      if (!name || name.length > 100)
        throw new OciError("NAME_INVALID", "the instance name is 1 to 100 characters");
      this.#store.setSetting("instance.name", name);
    }
    if (input.description !== undefined) {
      if (input.description.length > 1000)
        throw new OciError("NAME_INVALID", "the description is at most 1000 characters");
      this.#store.setSetting("instance.description", input.description.trim());
    }
  }

  async block(viewer: Viewer, domain: string, reason?: string): Promise<void> {
    this.#access.requireAdmin(viewer);
    const clean = domain.trim().toLowerCase();
    if (!domainPattern.test(clean))
      throw new OciError("NAME_INVALID", `"${domain.slice(0, 100)}" is not a domain`);
    await socialCall(() => this.#social().blockDomain(clean, reason?.trim() || undefined));
  }

  async unblock(viewer: Viewer, domain: string): Promise<boolean> {
    this.#access.requireAdmin(viewer);
    return socialCall(() => this.#social().unblockDomain(domain.trim().toLowerCase()));
  }

  async resolveReport(viewer: Viewer, id: string): Promise<void> {
    this.#access.requireAdmin(viewer);
    if (!(await socialCall(() => this.#social().resolveReport(id))))
      throw new OciError("NAME_UNKNOWN", `no report "${id.slice(0, 100)}"`);
  }

  #social() {
    if (!this.#deps.social) throw new OciError("UNAVAILABLE", "federation is off on this instance");
    return this.#deps.social;
  }
}

function freed(report: unknown): number | undefined {
  const value = (report as { bytesFreed?: unknown } | null)?.bytesFreed;
  return typeof value === "number" ? value : undefined;
}

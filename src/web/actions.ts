/** What signed-in people do, shared by the pages and the JSON API: namespaces, tokens, social. */
import { AccountError, namespaceOf } from "../accounts/index.ts";
import { SocialError, type SocialService } from "../federation/types.ts";
import type { Role, TokenScope, Visibility } from "../meta/index.ts";
import { NameUnknownError, OciError } from "../registry/index.ts";
import type { WebAccess } from "./access.ts";
import type { Catalog } from "./catalog.ts";
import type { WebStore } from "./store.ts";
import type { RepositorySummary, Viewer, WebDeps } from "./types.ts";

export interface NamespaceDetail {
  name: string;
  kind: "user" | "org";
  handle?: string;
  defaultVisibility: Visibility;
  repositories: RepositorySummary[];
  /** Members and roles, for members of the organization and administrators. */
  members?: Array<{ user: string; role: Role }>;
  can: { manage: boolean };
}

const roles = new Set<string>(["owner", "maintainer", "reader"]);
const scopes = new Set<string>(["pull", "push", "admin"]);

export class WebActions {
  readonly #deps: Pick<WebDeps, "accounts" | "social" | "log">;
  readonly #store: WebStore;
  readonly #access: WebAccess;
  readonly #catalog: Catalog;

  constructor(
    deps: Pick<WebDeps, "accounts" | "social" | "log">,
    parts: { store: WebStore; access: WebAccess; catalog: Catalog },
  ) {
    this.#deps = deps;
    this.#store = parts.store;
    this.#access = parts.access;
    this.#catalog = parts.catalog;
  }

  async namespace(viewer: Viewer, name: string): Promise<NamespaceDetail> {
    const record = await this.#deps.accounts.store.getNamespace(name);
    if (!record) throw new NameUnknownError(name);
    const mirrors = await this.#catalog.mirrors();
    const repositories: RepositorySummary[] = [];
    for (const row of this.#store.search({ query: "", namespace: name, limit: 500 })) {
      if (await this.#access.canRead(viewer, row.name))
        repositories.push(await this.#catalog.summary(row, mirrors));
    }
    const manage = await this.#access.canAdminister(viewer, name);
    let members: NamespaceDetail["members"];
    if (record.kind === "org") {
      const all = await this.#deps.accounts.store.listMembers(name);
      if (manage || viewer.admin || all.some((m) => m.user === viewer.user)) members = all;
    }
    let handle: string | undefined;
    try {
      handle = this.#deps.social?.handleOf(name);
    } catch {
      handle = undefined;
    }
    return {
      name,
      kind: record.kind,
      handle,
      defaultVisibility: record.defaultVisibility,
      repositories,
      members,
      can: { manage },
    };
  }

  /** Adds or changes a member's role, or removes them (`role` undefined). */
  async setMember(viewer: Viewer, org: string, user: string, role: string | undefined) {
    await this.#requireManage(viewer, org);
    if (role === undefined) return this.#account(() => this.#deps.accounts.removeMember(org, user));
    if (!roles.has(role))
      throw new OciError("UNSUPPORTED", `unknown role "${role}"`, { status: 400 });
    return this.#account(() => this.#deps.accounts.setMember(org, user, role as Role));
  }

  async setNamespaceVisibility(viewer: Viewer, namespace: string, visibility: string) {
    await this.#requireManage(viewer, namespace);
    if (visibility !== "public" && visibility !== "private")
      throw new OciError("UNSUPPORTED", "visibility is public or private", { status: 400 });
    return this.#account(() => this.#deps.accounts.setNamespaceVisibility(namespace, visibility));
  }

  async tokens(viewer: Viewer) {
    const user = this.#access.requireUser(viewer);
    return (await this.#deps.accounts.listTokens(user)).filter((t) => t.revokedAt === undefined);
  }

  async createToken(
    viewer: Viewer,
    input: { name?: string; scope?: string; expiresInDays?: number },
  ) {
    const user = this.#access.requireUser(viewer);
    // A token may not create a stronger one than itself.
    if (viewer.principal.scope && viewer.principal.scope !== "admin")
      throw new OciError("DENIED", "a token with this scope cannot create tokens");
    const scope = input.scope ?? "pull";
    if (!scopes.has(scope))
      throw new OciError("UNSUPPORTED", `unknown scope "${scope}"`, { status: 400 });
    const days = input.expiresInDays;
    if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 3650))
      throw new OciError("UNSUPPORTED", "expiry is 1 to 3650 days", { status: 400 });
    return this.#account(() =>
      this.#deps.accounts.createToken(user, {
        name: (input.name ?? "").trim(),
        scope: scope as TokenScope,
        expiresInDays: days,
      }),
    );
  }

  async revokeToken(viewer: Viewer, id: string) {
    const user = this.#access.requireUser(viewer);
    return this.#account(() => this.#deps.accounts.revokeToken(id, user));
  }

  /** The social service, or 503 UNAVAILABLE when federation is off. */
  social(): SocialService {
    const social = this.#deps.social;
    if (!social) throw new OciError("UNAVAILABLE", "federation is off on this instance");
    return social;
  }

  async star(viewer: Viewer, repository: string, on: boolean) {
    const user = this.#access.requireUser(viewer);
    await this.#requireTarget(viewer, repository);
    await socialCall(() =>
      on ? this.social().star(user, repository) : this.social().unstar(user, repository),
    );
  }

  async boost(viewer: Viewer, repository: string, on: boolean) {
    this.#access.requireAdmin(viewer);
    await this.#requireTarget(viewer, repository);
    await socialCall(() =>
      on
        ? this.social().boost("instance", repository)
        : this.social().unboost("instance", repository),
    );
  }

  async report(viewer: Viewer, target: string, text: string) {
    const user = this.#access.requireUser(viewer);
    if (!text.trim() || text.length > 2000)
      throw new OciError("UNSUPPORTED", "a report needs 1 to 2000 characters of text", {
        status: 400,
      });
    if (this.#store.exists(target)) await this.#access.requireRead(viewer, target);
    return socialCall(() => this.social().report(user, target, text.trim()));
  }

  async follow(viewer: Viewer, target: string) {
    this.#access.requireUser(viewer);
    if (!target.trim() || target.length > 500)
      throw new OciError("NAME_INVALID", "follow a handle (@user@host) or a repository URL", {
        status: 400,
      });
    return socialCall(() => this.social().follow(target.trim()));
  }

  async unfollow(viewer: Viewer, target: string) {
    this.#access.requireAdmin(viewer);
    return socialCall(() => this.social().unfollow(target));
  }

  async #requireTarget(viewer: Viewer, repository: string) {
    // Local names must be readable; remote URLs and handles are federation's to resolve.
    if (!repository.includes(":")) await this.#access.requireRead(viewer, repository);
  }

  async #requireManage(viewer: Viewer, namespace: string) {
    if (!(await this.#access.canAdminister(viewer, namespaceOf(namespace))))
      throw new OciError("DENIED", "only the namespace's owners may change this");
  }

  async #account<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof AccountError)) throw error;
      // "no user x", "x is not a member", "no token": something named is missing.
      const missing = /^no |is not a member/.test(error.message);
      throw new OciError(missing ? "NAME_UNKNOWN" : "NAME_INVALID", error.message);
    }
  }
}

/** Maps federation's expected failures onto OCI codes and statuses. */
export async function socialCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof SocialError)) throw error;
    switch (error.code) {
      case "not-found":
        throw new OciError("NAME_UNKNOWN", error.message);
      case "invalid":
        throw new OciError("NAME_INVALID", error.message);
      case "blocked":
      case "private":
        throw new OciError("DENIED", error.message);
      default:
        throw new OciError("UNSUPPORTED", error.message, { status: 400 });
    }
  }
}

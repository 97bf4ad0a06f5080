/** Who may pull, push and delete where: namespaces, roles, visibility and token scopes. */
import type { AccountStore, TokenScope, Visibility } from "../meta/index.ts";
import { type Action, allActions, type Principal } from "./types.ts";

const scopeActions: Record<TokenScope, readonly Action[]> = {
  pull: ["pull"],
  push: ["pull", "push"],
  admin: allActions,
};

/** The namespace of content pulled by CID; no user or organization may take the name. */
export const contentNamespace = "ipfs";

/** The namespace a repository belongs to: its first path component. */
export function namespaceOf(repository: string): string {
  return repository.split("/")[0] ?? repository;
}

export interface AccessPolicyOptions {
  /** Whether a namespace is a mirrored host (`127.0.0.1_5001`): public and written only by the mirror. */
  isMirrored?: (namespace: string) => Promise<boolean>;
}

export class AccessPolicy {
  readonly #accounts: AccountStore;
  readonly #isMirrored: (namespace: string) => Promise<boolean>;

  constructor(accounts: AccountStore, options: AccessPolicyOptions = {}) {
    this.#accounts = accounts;
    this.#isMirrored = options.isMirrored ?? (async () => false);
  }

  /**
   * What `principal` may do in `repository`. Outsiders get `pull` only on public repositories that
   * exist, so a private repository and a missing one look the same to them.
   */
  async actions(principal: Principal, repository: string): Promise<Set<Action>> {
    // `ipfs/<cid>` is content-addressed: anyone may pull it, nobody pushes or deletes there.
    if (namespaceOf(repository) === contentNamespace) return new Set(["pull"]);
    // A mirror is another registry's content: anyone may pull it, nobody here (administrators
    // included) pushes or deletes; only the mirror writes there, through the registry's stores.
    if (await this.#isMirrored(namespaceOf(repository))) return new Set(["pull"]);
    const cap = principal.scope ? scopeActions[principal.scope] : allActions;
    const granted = new Set<Action>();
    if (principal.admin) {
      for (const action of cap) granted.add(action);
      return granted;
    }
    const namespace = await this.#accounts.getNamespace(namespaceOf(repository));
    let own: readonly Action[] = [];
    if (principal.user && namespace) {
      if (namespace.kind === "user" && namespace.name === principal.user) own = allActions;
      if (namespace.kind === "org") {
        const role = await this.#accounts.getRole(namespace.name, principal.user);
        own =
          role === "owner" || role === "maintainer"
            ? allActions
            : role === "reader"
              ? ["pull"]
              : [];
      }
    }
    for (const action of own) if (cap.includes(action)) granted.add(action);
    if (!granted.has("pull") && (await this.isPublic(repository, namespace?.defaultVisibility))) {
      granted.add("pull");
    }
    return granted;
  }

  async allows(principal: Principal, repository: string, action: Action): Promise<boolean> {
    return (await this.actions(principal, repository)).has(action);
  }

  /** Whether the principal may manage the namespace (members, visibility, repositories). */
  async canAdminister(principal: Principal, namespace: string): Promise<boolean> {
    if (principal.scope && principal.scope !== "admin") return false;
    if (principal.admin) return true;
    if (!principal.user) return false;
    const record = await this.#accounts.getNamespace(namespace);
    if (!record) return false;
    if (record.kind === "user") return record.name === principal.user;
    return (await this.#accounts.getRole(namespace, principal.user)) === "owner";
  }

  /** Public and existing; `fallback` is the namespace default when already known. */
  async isPublic(repository: string, fallback?: Visibility): Promise<boolean> {
    if (namespaceOf(repository) === contentNamespace) return true;
    if (await this.#isMirrored(namespaceOf(repository))) return true;
    const own = await this.#accounts.repositoryVisibility(repository);
    if (own === undefined) return false;
    if (own !== null) return own === "public";
    const byNamespace =
      fallback ?? (await this.#accounts.getNamespace(namespaceOf(repository)))?.defaultVisibility;
    return (byNamespace ?? "public") === "public";
  }
}

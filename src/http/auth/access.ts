/**
 * Per-request access checks. Routes get a repository name only through `RequestAccess.require`, so
 * no route can forget to authorize. Authentication happens once per request in the middleware.
 */
import type { AccessPolicy, Action, Principal } from "../../accounts/index.ts";
import { OciError } from "../../registry/index.ts";
import { formatScope, type Scope } from "./scopes.ts";

export interface RequestAccess {
  /** Throws UNAUTHORIZED (with a challenge) unless the caller may do `action` in `repository`. */
  require(repository: string, action: Action): Promise<void>;
  /** The `/v2/` check: a valid token (an anonymous one counts). */
  requireAuthenticated(): void;
  /** The catalog check: a token carrying `registry:catalog:*`. */
  requireCatalog(): void;
  /** Whether the caller may pull `repository` (mount sources, catalog entries). */
  canPull(repository: string): Promise<boolean>;
  principal: Principal | undefined;
}

/** No access control: every request may do everything (`auth.enabled: false`). */
export const openAccess: RequestAccess = {
  async require() {},
  requireAuthenticated() {},
  requireCatalog() {},
  async canPull() {
    return true;
  },
  principal: { admin: true },
};

export interface Challenge {
  realm: string;
  service: string;
}

export type TokenState =
  | { kind: "none" }
  | { kind: "invalid" }
  | { kind: "valid"; principal: Principal; access: Scope[] };

export function tokenAccess(
  state: TokenState,
  policy: AccessPolicy,
  challenge: Challenge,
  onPush?: (principal: Principal, repository: string) => Promise<void>,
): RequestAccess {
  const principal = state.kind === "valid" ? state.principal : undefined;
  const deny = (scope?: Scope): never => {
    const parts = [`realm="${challenge.realm}"`, `service="${challenge.service}"`];
    if (scope) parts.push(`scope="${formatScope(scope)}"`);
    if (state.kind === "invalid") parts.push('error="invalid_token"');
    else if (state.kind === "valid" && scope) parts.push('error="insufficient_scope"');
    throw new OciError("UNAUTHORIZED", "authentication required", {
      headers: { "WWW-Authenticate": `Bearer ${parts.join(",")}` },
      detail: scope ? { scope: formatScope(scope) } : undefined,
    });
  };
  const granted = (type: Scope["type"], name: string, action: string) =>
    state.kind === "valid" &&
    state.access.some(
      (s) =>
        s.type === type &&
        s.name === name &&
        (s.actions.includes(action) || s.actions.includes("*")),
    );

  return {
    principal,
    async require(repository, action) {
      const scope: Scope = {
        type: "repository",
        name: repository,
        actions: action === "push" ? ["pull", "push"] : [action],
      };
      if (state.kind !== "valid" || !principal) return deny(scope);
      if (!granted("repository", repository, action)) return deny(scope);
      if (!(await policy.allows(principal, repository, action))) return deny(scope);
      if (action === "push") await onPush?.(principal, repository);
    },
    requireAuthenticated() {
      if (state.kind !== "valid") deny();
    },
    requireCatalog() {
      if (!granted("registry", "catalog", "*"))
        deny({ type: "registry", name: "catalog", actions: ["*"] });
    },
    async canPull(repository) {
      return principal !== undefined && (await policy.allows(principal, repository, "pull"));
    },
  };
}

/** Authenticates every `/v2/` request from its bearer token and leaves a RequestAccess behind. */
import type { MiddlewareHandler } from "hono";
import type { AccessPolicy, AccountService, Principal } from "../../accounts/index.ts";
import { namespaceOf } from "../../accounts/index.ts";
import type { HttpEnv } from "../types.ts";
import { type Challenge, openAccess, type TokenState, tokenAccess } from "./access.ts";
import type { TokenSigner } from "./token-signer.ts";

export interface AuthDeps {
  signer: TokenSigner;
  accounts: AccountService;
  policy: AccessPolicy;
  challenge: Challenge;
}

export function openAuthMiddleware(): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    c.set("access", openAccess);
    await next();
  };
}

export function tokenAuthMiddleware(deps: AuthDeps): MiddlewareHandler<HttpEnv> {
  // An administrator pushing to a namespace nobody has yet creates it as an organization.
  const onPush = async (principal: Principal, repository: string) => {
    const namespace = namespaceOf(repository);
    if (!principal.admin || !principal.user) return;
    if (await deps.accounts.store.getNamespace(namespace)) return;
    await deps.accounts.createOrg(namespace, principal.user);
  };
  return async (c, next) => {
    const state = await tokenState(c.req.header("authorization"), deps);
    c.set("access", tokenAccess(state, deps.policy, deps.challenge, onPush));
    await next();
  };
}

async function tokenState(header: string | undefined, deps: AuthDeps): Promise<TokenState> {
  if (!header) return { kind: "none" };
  const match = /^Bearer\s+(\S{1,8192})$/i.exec(header);
  if (!match) return { kind: "invalid" };
  const verified = await deps.signer.verify(match[1] as string);
  if (!verified.ok) return { kind: "invalid" };
  const principal = await deps.accounts.current(
    verified.claims.sub || undefined,
    verified.claims.tid,
  );
  if (!principal) return { kind: "invalid" };
  return { kind: "valid", principal, access: verified.claims.access };
}

/**
 * The token endpoint of Docker's token authentication: `GET /token` (basic or anonymous) and the
 * OAuth2 `POST /token` form (password and refresh_token grants) that newer clients use.
 */
import type { Context } from "hono";
import {
  type AccessPolicy,
  type AccountService,
  type AuthResult,
  allActions,
  anonymous,
  type Principal,
} from "../../accounts/index.ts";
import { OciError } from "../../registry/index.ts";
import { remoteAddress } from "../adapter/node.ts";
import type { HttpApp } from "../types.ts";
import { parseScopes, type Scope } from "./scopes.ts";
import type { TokenSigner } from "./token-signer.ts";

export interface TokenRouteDeps {
  signer: TokenSigner;
  accounts: AccountService;
  policy: AccessPolicy;
  /** The client's address as logs see it (forwarded only from trusted proxies). */
  clientAddress: (c: Context) => string | undefined;
}

const maxFormBytes = 16 * 1024;

export function registerTokenRoutes(app: HttpApp, deps: TokenRouteDeps): void {
  app.get("/token", async (c) => {
    const address = deps.clientAddress(c) ?? remoteAddress(c) ?? "unknown";
    const basic = parseBasic(c.req.header("authorization"));
    let principal: Principal = anonymous;
    if (basic)
      principal = authenticated(
        await deps.accounts.authenticate(basic.user, basic.password, address),
        c,
      );
    const scopes = parseScopes(c.req.queries("scope") ?? []);
    const offline = c.req.query("offline_token") === "true";
    return c.json(
      await issue(
        deps,
        principal,
        scopes,
        offline ? (c.req.query("client_id") ?? "docker") : undefined,
      ),
    );
  });

  app.post("/token", async (c) => {
    const length = Number(c.req.header("content-length") ?? 0);
    if (length > maxFormBytes)
      throw new OciError("SIZE_INVALID", "token request too large", { status: 413 });
    const form = new URLSearchParams(await c.req.text());
    const address = deps.clientAddress(c) ?? remoteAddress(c) ?? "unknown";
    const grant = form.get("grant_type");
    let principal: Principal;
    if (grant === "password") {
      const user = form.get("username") ?? "";
      const password = form.get("password") ?? "";
      principal = authenticated(await deps.accounts.authenticate(user, password, address), c);
    } else if (grant === "refresh_token") {
      const redeemed = await deps.accounts.redeemRefreshToken(form.get("refresh_token") ?? "");
      if (!redeemed) throw new OciError("UNAUTHORIZED", "invalid refresh token");
      principal = redeemed;
    } else {
      throw new OciError("UNSUPPORTED", `unsupported grant_type "${(grant ?? "").slice(0, 32)}"`, {
        status: 400,
      });
    }
    const scopes = parseScopes([form.get("scope") ?? ""]);
    const clientId = form.get("client_id") ?? "client";
    const offline = form.get("access_type") === "offline" && grant === "password";
    const body = await issue(deps, principal, scopes, offline ? clientId : undefined);
    if (grant === "refresh_token") body.refresh_token = form.get("refresh_token") ?? undefined;
    return c.json({
      ...body,
      scope: scopes.map((s) => `${s.type}:${s.name}:${s.actions.join(",")}`).join(" "),
    });
  });
}

function authenticated(result: AuthResult, c: Context): Principal {
  if (result.ok) return result.principal;
  if (result.reason === "rate-limited") {
    c.header("Retry-After", String(result.retryAfterSeconds ?? 60));
    throw new OciError("TOOMANYREQUESTS", "too many failed logins; try again later");
  }
  throw new OciError("UNAUTHORIZED", "incorrect username or password", {
    headers: { "WWW-Authenticate": 'Basic realm="flotilla"' },
  });
}

async function issue(
  deps: TokenRouteDeps,
  principal: Principal,
  scopes: Scope[],
  offlineClient: string | undefined,
) {
  const access: Scope[] = [];
  for (const scope of scopes) {
    if (scope.type === "registry") {
      access.push({ type: "registry", name: "catalog", actions: ["*"] });
      continue;
    }
    const allowed = await deps.policy.actions(principal, scope.name);
    const wanted = scope.actions.includes("*") ? allActions : scope.actions;
    const actions = wanted.filter((a): a is (typeof allActions)[number] => allowed.has(a as never));
    access.push({ type: "repository", name: scope.name, actions });
  }
  const { token, issuedAt } = await deps.signer.sign({
    sub: principal.user ?? "",
    access,
    tid: principal.tokenId,
  });
  const body: Record<string, unknown> = {
    token,
    access_token: token,
    expires_in: deps.signer.ttlSeconds,
    issued_at: issuedAt.toISOString(),
  };
  if (offlineClient) {
    const refresh = await deps.accounts.createRefreshToken(principal, offlineClient);
    if (refresh) body.refresh_token = refresh;
  }
  return body as { token: string; refresh_token?: string };
}

function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]{1,4096})$/i.exec(header ?? "");
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] as string, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

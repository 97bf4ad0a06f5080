/** The check every administrators-only JSON endpoint makes (GC, quotas, mirrors, follows). */
import { OciError } from "../../registry/index.ts";
import { remoteAddress } from "../adapter/node.ts";
import type { HttpContext } from "../types.ts";
import type { AuthDeps } from "./middleware.ts";

/**
 * Passes an administrator by password or personal access token (Basic; a token needs the admin
 * scope) or by a registry token (Bearer). Without access control (auth off) everyone passes, as
 * on the /v2 API.
 */
export async function requireAdmin(c: HttpContext, auth: AuthDeps | undefined): Promise<void> {
  if (!auth) return;
  const header = c.req.header("authorization") ?? "";
  const basic = /^Basic\s+([A-Za-z0-9+/=]{1,4096})$/i.exec(header);
  const bearer = /^Bearer\s+(\S{1,8192})$/i.exec(header);
  let principal: { admin: boolean; scope?: string } | undefined;
  if (basic) {
    const decoded = Buffer.from(basic[1] as string, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon > 0) {
      const result = await auth.accounts.authenticate(
        decoded.slice(0, colon),
        decoded.slice(colon + 1),
        remoteAddress(c) ?? "unknown",
      );
      if (result.ok) principal = result.principal;
    }
  } else if (bearer) {
    const verified = await auth.signer.verify(bearer[1] as string);
    if (verified.ok && verified.claims.sub)
      principal = await auth.accounts.current(verified.claims.sub, verified.claims.tid);
  }
  if (!principal)
    throw new OciError("UNAUTHORIZED", "authentication required", {
      headers: { "WWW-Authenticate": `Basic realm="${auth.challenge.service}"` },
    });
  if (!principal.admin || (principal.scope && principal.scope !== "admin"))
    throw new OciError("DENIED", "administrators only");
}

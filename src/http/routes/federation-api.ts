/**
 * Federation's administrator API: the instance's follows (`/api/v1/admin/follows`). Remote
 * repositories followed here are mirrored. (Blocks live in the web interface's admin API.)
 */
// types.ts only: the index loads Fedify, which an instance with federation off never needs.

import { SocialError, type SocialService } from "../../federation/types.ts";
import { OciError } from "../../registry/index.ts";
import { requireAdmin } from "../auth/admin.ts";
import type { AuthDeps } from "../auth/index.ts";
import { jsonObjectBody } from "../json-body.ts";
import type { HttpApp } from "../types.ts";

export interface FederationApiDeps {
  social: SocialService;
  /** Access control; without it (auth disabled) anyone who reaches the port is an administrator. */
  auth?: AuthDeps;
}

export function registerFederationApiRoutes(app: HttpApp, deps: FederationApiDeps): void {
  const { social } = deps;

  app.get("/api/v1/admin/follows", async (c) => {
    await requireAdmin(c, deps.auth);
    return c.json({ follows: await social.follows() });
  });

  /** `{ "target": "@alice@host" | "<repository actor URL>" }`: the instance sends Follow. */
  app.post("/api/v1/admin/follows", async (c) => {
    await requireAdmin(c, deps.auth);
    const target = stringField(await jsonObjectBody(c), "target");
    return c.json({ follow: await mapped(() => social.follow(target)) }, 201);
  });

  app.delete("/api/v1/admin/follows", async (c) => {
    await requireAdmin(c, deps.auth);
    const target = c.req.query("target");
    if (!target) throw new OciError("UNSUPPORTED", "expected ?target=", { status: 400 });
    if (!(await mapped(() => social.unfollow(target))))
      throw new OciError("NAME_UNKNOWN", "not followed", { detail: { target } });
    return c.body(null, 204);
  });
}

/** Federation's expected failures as OCI errors with the right status. */
async function mapped<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof SocialError)) throw error;
    if (error.code === "not-found") throw new OciError("NAME_UNKNOWN", error.message);
    if (error.code === "invalid")
      throw new OciError("NAME_INVALID", error.message, { status: 400 });
    if (error.code === "blocked" || error.code === "private")
      throw new OciError("DENIED", error.message);
    throw new OciError("UNSUPPORTED", error.message, { status: 400 });
  }
}

function stringField(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== "string" || !value.trim() || value.length > 2000)
    throw new OciError("UNSUPPORTED", `expected a JSON body with a "${name}" string`, {
      status: 400,
    });
  return value.trim();
}

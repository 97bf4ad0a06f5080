/**
 * Mirrors over HTTP: the administrator's status list and track/untrack (`/api/v1/admin/mirrors`),
 * and the guard that answers DENIED to any write into a mirrored host namespace, with or without
 * access control (only the mirror writes there, through the registry's stores).
 */

import { namespaceOf } from "../../accounts/index.ts";
import { plainRegistryActor } from "../../mirror/names.ts";
import type { Mirror } from "../../mirror/types.ts";
import { OciError } from "../../registry/index.ts";
import { requireAdmin } from "../auth/admin.ts";
import type { AuthDeps } from "../auth/index.ts";
import { jsonObjectBody } from "../json-body.ts";
import type { HttpApp } from "../types.ts";

export interface MirrorRouteDeps {
  mirror: Mirror;
  /** Access control; without it (auth disabled) anyone who reaches the port is an administrator. */
  auth?: AuthDeps;
}

const writes = new Set(["PUT", "POST", "PATCH", "DELETE"]);

export function registerMirrorRoutes(app: HttpApp, deps: MirrorRouteDeps): void {
  app.use("/v2/*", async (c, next) => {
    if (writes.has(c.req.method)) {
      const name = /^\/v2\/(.+?)\/(?:blobs|manifests|tags|referrers)\//.exec(c.req.path)?.[1];
      if (name && (await deps.mirror.isMirroredRepository(namespaceOf(name)))) {
        throw new OciError("DENIED", "this repository is a mirror: only the mirror writes to it", {
          detail: { name },
        });
      }
    }
    await next();
  });

  app.get("/api/v1/admin/mirrors", async (c) => {
    await requireAdmin(c, deps.auth);
    return c.json({ mirrors: await deps.mirror.list() });
  });

  /** Track a repository of a plain registry or another instance: `{registryUrl, name, actorId?}`. */
  app.post("/api/v1/admin/mirrors", async (c) => {
    await requireAdmin(c, deps.auth);
    const body = await jsonObjectBody(c);
    const registryUrl = typeof body.registryUrl === "string" ? body.registryUrl : undefined;
    const name = typeof body.name === "string" ? body.name : undefined;
    if (!registryUrl || !name)
      throw new OciError("UNSUPPORTED", "expected a JSON body with registryUrl and name", {
        status: 400,
      });
    const actorId =
      typeof body.actorId === "string" ? body.actorId : plainRegistryActor(registryUrl, name);
    const result = await deps.mirror.track({ actorId, registryUrl, name });
    return c.json(result, result.ok ? 200 : 422);
  });

  app.delete("/api/v1/admin/mirrors", async (c) => {
    await requireAdmin(c, deps.auth);
    const actorId = c.req.query("actorId");
    if (!actorId) throw new OciError("UNSUPPORTED", "expected ?actorId=", { status: 400 });
    if (!(await deps.mirror.isTracked(actorId)))
      throw new OciError("NAME_UNKNOWN", "no such mirror", { detail: { actorId } });
    await deps.mirror.untrack(actorId);
    return c.body(null, 204);
  });
}

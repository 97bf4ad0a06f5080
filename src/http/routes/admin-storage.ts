/**
 * Storage lifecycle over HTTP, for the CLI, the UI and scripts: garbage collection and retention
 * runs (`/api/v1/admin/gc`, `/api/v1/admin/retention`) and namespace quotas (`/api/v1/quotas`,
 * `/api/v1/admin/quotas/:namespace`). Administrators only when access control is on.
 */
import type { Lifecycle } from "../../lifecycle/index.ts";
import { parseBytes } from "../../lifecycle/index.ts";
import { NameInvalidError, OciError } from "../../registry/index.ts";
import { requireAdmin } from "../auth/admin.ts";
import type { AuthDeps } from "../auth/index.ts";
import { jsonObjectBody } from "../json-body.ts";
import type { HttpApp, HttpContext } from "../types.ts";

export interface AdminStorageDeps {
  lifecycle: Lifecycle;
  /** Access control; without it (auth disabled) anyone who reaches the port is an administrator. */
  auth?: AuthDeps;
}

/** User and organization names, and mirrored hosts written with `_` for `:`. */
const namespaceName = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

export function registerAdminStorageRoutes(app: HttpApp, deps: AdminStorageDeps): void {
  const { lifecycle } = deps;

  app.get("/api/v1/admin/gc", async (c) => {
    await requireAdmin(c, deps.auth);
    const limit = Number(c.req.query("limit") ?? 20);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200)
      throw new OciError("PAGINATION_NUMBER_INVALID", "limit must be 1 to 200");
    return c.json({ runs: await lifecycle.runs(limit) });
  });

  // A run goes on when its caller disconnects (a long run may outlast the connection's idle
  // timeout): stopping halfway is safe but wasteful, and the run shows in GET /api/v1/admin/gc.
  app.post("/api/v1/admin/gc", async (c) => {
    await requireAdmin(c, deps.auth);
    const report = await lifecycle.collect({
      dryRun: flag(c, "dryRun"),
      trigger: trigger(c),
    });
    return c.json(report);
  });

  app.post("/api/v1/admin/retention", async (c) => {
    await requireAdmin(c, deps.auth);
    const report = await lifecycle.applyRetention({
      dryRun: flag(c, "dryRun"),
      trigger: trigger(c),
    });
    return c.json({ ...report, policies: lifecycle.retention.policies });
  });

  app.get("/api/v1/quotas", async (c) => {
    await requireAdmin(c, deps.auth);
    return c.json({ quotas: await lifecycle.quotas.all() });
  });

  app.get("/api/v1/quotas/:namespace", async (c) => {
    await requireAdmin(c, deps.auth);
    return c.json(await lifecycle.quotas.usage(namespace(c)));
  });

  /** `{"bytes": 10737418240}` or `{"bytes": "10GiB"}`; `null` removes the quota. */
  app.put("/api/v1/admin/quotas/:namespace", async (c) => {
    await requireAdmin(c, deps.auth);
    const name = namespace(c);
    const body = await jsonObjectBody(c);
    const raw = body.bytes;
    const bytes =
      typeof raw === "number" ? raw : typeof raw === "string" ? parseBytes(raw) : undefined;
    const valid = bytes !== undefined && Number.isSafeInteger(bytes) && bytes >= 0;
    if (raw !== null && !valid) {
      throw new OciError(
        "SIZE_INVALID",
        'expected {"bytes": <whole number of bytes, or a size like "10GiB">} or {"bytes": null}',
      );
    }
    await lifecycle.quotas.set(name, bytes);
    return c.json(await lifecycle.quotas.usage(name));
  });

  app.delete("/api/v1/admin/quotas/:namespace", async (c) => {
    await requireAdmin(c, deps.auth);
    await lifecycle.quotas.set(namespace(c), undefined);
    return c.body(null, 204);
  });
}

function namespace(c: HttpContext): string {
  const name = c.req.param("namespace") ?? "";
  if (name.length > 255 || !namespaceName.test(name))
    throw new NameInvalidError(name.slice(0, 64), "not a namespace name");
  return name;
}

function flag(c: HttpContext, name: string): boolean {
  const value = c.req.query(name);
  if (value === undefined || value === "false" || value === "0") return false;
  if (value === "true" || value === "1" || value === "") return true;
  throw new OciError("UNSUPPORTED", `${name} must be true or false`, { status: 400 });
}

function trigger(c: HttpContext): string {
  return c.req.query("trigger") === "cli" ? "cli" : "api";
}

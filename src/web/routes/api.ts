/** The JSON API behind the pages, under /api/v1 (documented in openapi.ts). */
import type { Context, Hono } from "hono";
import { checkName } from "../../registry/index.ts";
import type { WebServices } from "../context.ts";
import { WebInputError } from "../errors.ts";
import { renderMarkdown } from "../markdown.ts";
import type { Viewer } from "../types.ts";
import { searchFilters } from "./filters.ts";
import { openApiDocument } from "./openapi.ts";
import { splitRepositoryPath } from "./support.ts";

type Json = Record<string, unknown>;

// biome-ignore lint/suspicious/noExplicitAny: routes mount on the app whatever its variables are.
export function registerApiRoutes(app: Hono<any>, web: WebServices): void {
  const viewer = (c: Context) => web.viewer(c);
  /** A write: its JSON body, after the CSRF check for browser sessions. */
  const write = async (c: Context): Promise<{ viewer: Viewer; body: Json }> => {
    const who = await viewer(c);
    web.requireCsrf(who, c.req.header("x-csrf-token"));
    const text = await c.req.text();
    if (text.length > 256 * 1024) throw new WebInputError("the request body is too large");
    if (!text.trim()) return { viewer: who, body: {} };
    try {
      const body = JSON.parse(text) as unknown;
      if (!body || typeof body !== "object" || Array.isArray(body))
        throw new Error("not an object");
      return { viewer: who, body: body as Json };
    } catch {
      throw new WebInputError("the request body must be a JSON object");
    }
  };
  const str = (body: Json, key: string, max: number): string | undefined => {
    const value = body[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string" || value.length > max)
      throw new WebInputError(`"${key}" must be a string of at most ${max} characters`);
    return value;
  };

  app.get("/api/v1/openapi.json", (c) => c.json(openApiDocument(web.options.publicUrl)));

  app.get("/api/v1/instance", async (c) => {
    const about = web.admin.settings();
    return c.json({
      ...about,
      host: new URL(web.options.publicUrl).host,
      url: web.options.publicUrl,
      features: {
        auth: web.deps.policy !== undefined,
        federation: web.deps.social !== undefined,
        ipfs: web.deps.cidOf !== undefined,
        mirrors: web.deps.mirrors !== undefined,
      },
    });
  });

  app.get("/api/v1/me", async (c) => {
    const who = await viewer(c);
    return c.json({
      user: who.user ?? null,
      admin: who.admin,
      scope: who.principal.scope ?? null,
      open: who.open,
    });
  });

  app.get("/api/v1/home", async (c) => c.json(await web.catalog.home(await viewer(c))));

  app.get("/api/v1/search", async (c) => {
    const filters = searchFilters((name) => c.req.query(name));
    const results = await web.catalog.search(await viewer(c), filters);
    return c.json({ query: filters.query, filters: { ...filters, query: undefined }, results });
  });

  app.get("/api/v1/repositories/*", async (c) => {
    const { name, rest } = splitRepositoryPath(c.req.path, "/api/v1/repositories/");
    checkName(name);
    const who = await viewer(c);
    if (rest.startsWith("manifests/"))
      return c.json(await web.repositories.manifest(who, name, rest.slice("manifests/".length)));
    if (rest) return c.notFound();
    const detail = await web.repositories.detail(who, name);
    return c.json({ ...detail, readmeHtml: detail.readme ? renderMarkdown(detail.readme) : "" });
  });

  app.on(["PATCH", "PUT", "POST", "DELETE"], "/api/v1/repositories/*", async (c) => {
    const { name, rest } = splitRepositoryPath(c.req.path, "/api/v1/repositories/");
    checkName(name);
    const { viewer: who, body } = await write(c);
    const method = c.req.method;
    if (!rest && method === "PATCH") {
      const visibility = str(body, "visibility", 10);
      if (visibility !== undefined && !["public", "private", "inherit"].includes(visibility))
        throw new WebInputError('"visibility" is public, private or inherit');
      await web.repositories.update(who, name, {
        description: str(body, "description", 300),
        readme: str(body, "readme", 100_000),
        visibility: visibility as "public" | "private" | "inherit" | undefined,
      });
      return c.json(await web.repositories.detail(who, name));
    }
    if ((rest === "star" || rest === "boost") && (method === "PUT" || method === "DELETE")) {
      if (rest === "star") await web.actions.star(who, name, method === "PUT");
      else await web.actions.boost(who, name, method === "PUT");
      return c.body(null, 204);
    }
    if (rest === "report" && method === "POST") {
      const id = await web.actions.report(who, name, str(body, "text", 2000) ?? "");
      return c.json({ id }, 201);
    }
    return c.notFound();
  });

  app.get("/api/v1/namespaces/:namespace", async (c) =>
    c.json(await web.actions.namespace(await viewer(c), c.req.param("namespace") ?? "")),
  );

  app.on(["PUT", "DELETE"], "/api/v1/namespaces/:namespace/members/:user", async (c) => {
    const { viewer: who, body } = await write(c);
    const role = c.req.method === "DELETE" ? undefined : (str(body, "role", 20) ?? "");
    await web.actions.setMember(
      who,
      c.req.param("namespace") ?? "",
      c.req.param("user") ?? "",
      role,
    );
    return c.body(null, 204);
  });

  app.put("/api/v1/namespaces/:namespace/visibility", async (c) => {
    const { viewer: who, body } = await write(c);
    await web.actions.setNamespaceVisibility(
      who,
      c.req.param("namespace") ?? "",
      str(body, "visibility", 10) ?? "",
    );
    return c.body(null, 204);
  });

  app.get("/api/v1/tokens", async (c) =>
    c.json({ tokens: await web.actions.tokens(await viewer(c)) }),
  );

  app.post("/api/v1/tokens", async (c) => {
    const { viewer: who, body } = await write(c);
    const days = body.expiresInDays;
    if (days !== undefined && typeof days !== "number")
      throw new WebInputError('"expiresInDays" must be a number');
    const created = await web.actions.createToken(who, {
      name: str(body, "name", 100),
      scope: str(body, "scope", 10),
      expiresInDays: days,
    });
    return c.json(
      { id: created.id, token: created.value, expiresAt: created.expiresAt ?? null },
      201,
    );
  });

  app.delete("/api/v1/tokens/:id", async (c) => {
    const { viewer: who } = await write(c);
    await web.actions.revokeToken(who, c.req.param("id") ?? "");
    return c.body(null, 204);
  });

  app.get("/api/v1/me/follows", async (c) => {
    web.access.requireUser(await viewer(c));
    return c.json({ follows: await web.actions.social().follows() });
  });

  app.post("/api/v1/me/follows", async (c) => {
    const { viewer: who, body } = await write(c);
    return c.json(await web.actions.follow(who, str(body, "target", 500) ?? ""), 201);
  });

  app.delete("/api/v1/me/follows", async (c) => {
    const { viewer: who } = await write(c);
    const removed = await web.actions.unfollow(who, c.req.query("target") ?? "");
    return removed ? c.body(null, 204) : c.notFound();
  });

  app.get("/api/v1/admin/overview", async (c) => c.json(await web.admin.overview(await viewer(c))));

  app.put("/api/v1/admin/settings", async (c) => {
    const { viewer: who, body } = await write(c);
    web.admin.updateSettings(who, {
      name: str(body, "name", 100),
      description: str(body, "description", 1000),
    });
    return c.json(web.admin.settings());
  });

  app.post("/api/v1/admin/blocks", async (c) => {
    const { viewer: who, body } = await write(c);
    await web.admin.block(who, str(body, "domain", 253) ?? "", str(body, "reason", 500));
    return c.body(null, 204);
  });

  app.delete("/api/v1/admin/blocks/:domain", async (c) => {
    const { viewer: who } = await write(c);
    return (await web.admin.unblock(who, c.req.param("domain") ?? ""))
      ? c.body(null, 204)
      : c.notFound();
  });

  app.post("/api/v1/admin/reports/:id/resolve", async (c) => {
    const { viewer: who } = await write(c);
    await web.admin.resolveReport(who, c.req.param("id") ?? "");
    return c.body(null, 204);
  });
}

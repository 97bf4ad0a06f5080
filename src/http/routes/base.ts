/** `GET /v2/` and the `/v2/_catalog` listing. */
import type { Registry } from "../../registry/index.ts";
import { pageOf, setNextLink } from "../pagination.ts";
import type { HttpApp, HttpContext } from "../types.ts";

export function registerBaseRoutes(app: HttpApp, registry: Registry): void {
  const base = (c: HttpContext) => c.json({});
  app.get("/v2/", base);
  app.get("/v2", base);

  app.get("/v2/_catalog", async (c) => {
    const page = pageOf(c);
    const repositories = await registry.manifests.catalog(page);
    setNextLink(c, "/v2/_catalog", page, repositories);
    return c.json({ repositories });
  });
}

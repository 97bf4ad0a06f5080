/** `GET /v2/` and the `/v2/_catalog` listing. */
import type { Registry } from "../../registry/index.ts";
import { pageOf, setNextLink } from "../pagination.ts";
import type { HttpApp, HttpContext } from "../types.ts";

export function registerBaseRoutes(app: HttpApp, registry: Registry): void {
  const base = (c: HttpContext) => {
    c.get("access").requireAuthenticated();
    return c.json({});
  };
  app.get("/v2/", base);
  app.get("/v2", base);

  app.get("/v2/_catalog", async (c) => {
    const access = c.get("access");
    access.requireCatalog();
    const page = pageOf(c);
    const repositories: string[] = [];
    // Filter page by page so a caller never learns of repositories it may not pull.
    let last = page.last;
    while (repositories.length < page.limit) {
      const batch = await registry.manifests.catalog({ last, limit: page.limit });
      for (const name of batch) {
        if (repositories.length < page.limit && (await access.canPull(name)))
          repositories.push(name);
      }
      if (batch.length < page.limit) break;
      last = batch.at(-1);
    }
    setNextLink(c, "/v2/_catalog", page, repositories);
    return c.json({ repositories });
  });
}

/** Pages anyone may read: home, search, repositories, manifests, namespaces; and repository actions. */
import type { Hono } from "hono";
import { checkName } from "../../registry/index.ts";
import type { WebServices } from "../context.ts";
import { renderMarkdown } from "../markdown.ts";
import { namespacePage } from "../pages/account.ts";
import { homePage, searchPage } from "../pages/browse.ts";
import { repoHref } from "../pages/components.ts";
import { manifestPage, reportPage, repositoryPage } from "../pages/repository.ts";
import { searchFilters } from "./filters.ts";
import { form, page, render, splitRepositoryPath } from "./support.ts";

// biome-ignore lint/suspicious/noExplicitAny: pages mount on the app whatever its variables are.
export function registerBrowsePages(app: Hono<any>, web: WebServices): void {
  app.get(
    "/",
    page(web, async (c, viewer) => {
      const data = await web.catalog.home(viewer);
      return render(c, web, viewer, "Home", homePage(data, web.admin.settings()));
    }),
  );

  app.get(
    "/search",
    page(web, async (c, viewer) => {
      const filters = searchFilters((name) => c.req.query(name));
      const results = await web.catalog.search(viewer, filters);
      const mirrors = await web.catalog.mirrors();
      const instances = [...new Set([...mirrors.values()].map((m) => new URL(m.registryUrl).host))];
      const body = searchPage(filters, results, { platforms: web.store.allPlatforms(), instances });
      return render(c, web, viewer, filters.query ? `Search: ${filters.query}` : "Search", body);
    }),
  );

  app.get(
    "/r/*",
    page(web, async (c, viewer) => {
      const { name, rest } = splitRepositoryPath(c.req.path, "/r/");
      checkName(name);
      if (rest.startsWith("manifest/")) {
        const detail = await web.repositories.manifest(
          viewer,
          name,
          rest.slice("manifest/".length),
        );
        return render(
          c,
          web,
          viewer,
          `${name}@${detail.digest.slice(0, 19)}`,
          manifestPage(detail),
        );
      }
      if (rest === "report") {
        await web.access.requireRead(viewer, name);
        web.access.requireUser(viewer);
        return render(c, web, viewer, `Report ${name}`, reportPage(name, viewer));
      }
      const detail = await web.repositories.detail(viewer, name);
      const readme = detail.readme ? renderMarkdown(detail.readme) : "";
      return render(
        c,
        web,
        viewer,
        name,
        repositoryPage(detail, viewer, readme, web.deps.social !== undefined),
      );
    }),
  );

  app.post(
    "/r/*",
    page(web, async (c, viewer) => {
      const { name, rest } = splitRepositoryPath(c.req.path, "/r/");
      checkName(name);
      const fields = await form(c, web, viewer);
      const actions = web.actions;
      if (rest === "star" || rest === "unstar") await actions.star(viewer, name, rest === "star");
      else if (rest === "boost" || rest === "unboost")
        await actions.boost(viewer, name, rest === "boost");
      else if (rest === "report") await actions.report(viewer, name, fields.text ?? "");
      else if (rest === "settings") {
        await web.repositories.update(viewer, name, {
          description: (fields.description ?? "").slice(0, 300),
          readme: (fields.readme ?? "").slice(0, 100_000),
          visibility: ["public", "private", "inherit"].includes(fields.visibility ?? "")
            ? (fields.visibility as "public" | "private" | "inherit")
            : undefined,
        });
      } else return c.notFound();
      return c.redirect(repoHref(name), 303);
    }),
  );

  app.get(
    "/u/:namespace",
    page(web, async (c, viewer) => {
      const detail = await web.actions.namespace(viewer, c.req.param("namespace") ?? "");
      return render(c, web, viewer, detail.name, namespacePage(viewer, detail));
    }),
  );

  app.post(
    "/u/:namespace/-/:action",
    page(web, async (c, viewer) => {
      const namespace = c.req.param("namespace") ?? "";
      const fields = await form(c, web, viewer);
      const action = c.req.param("action") ?? "";
      if (action === "members") {
        const role = fields.role === "remove" ? undefined : fields.role;
        await web.actions.setMember(viewer, namespace, (fields.user ?? "").trim(), role);
      } else if (action === "visibility") {
        await web.actions.setNamespaceVisibility(viewer, namespace, fields.visibility ?? "");
      } else return c.notFound();
      return c.redirect(`/u/${namespace}`, 303);
    }),
  );
}

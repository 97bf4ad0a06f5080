/** What page routes share: rendering in the layout, turning errors into pages, reading forms. */
import type { Context } from "hono";
import { OciError } from "../../registry/index.ts";
import type { WebServices } from "../context.ts";
import { WebInputError } from "../errors.ts";
import { errorPage } from "../pages/admin.ts";
import { type Html, layout } from "../pages/components.ts";
import type { Viewer } from "../types.ts";

export type PageHandler = (c: Context, viewer: Viewer) => Promise<Response>;

export function render(
  c: Context,
  web: WebServices,
  viewer: Viewer,
  title: string,
  body: Html,
  status = 200,
) {
  const about = web.admin.settings();
  c.header("Cache-Control", "no-store");
  c.header("X-Frame-Options", "DENY");
  c.header(
    "Content-Security-Policy",
    "default-src 'self'; img-src 'self' https: data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  );
  return c.html(
    layout(
      {
        title,
        viewer,
        instanceName: about.name,
        instanceDescription: about.description,
        query: c.req.query("q"),
      },
      body,
    ),
    status as 200,
  );
}

/** Runs a page handler; a client error becomes an HTML page, 401 a trip to the sign-in form. */
export function page(web: WebServices, handler: PageHandler) {
  return async (c: Context) => {
    const viewer = await web.viewer(c).catch(() => undefined);
    if (!viewer) return c.redirect("/login", 303);
    try {
      return await handler(c, viewer);
    } catch (error) {
      if (!(error instanceof OciError) || (error.status >= 500 && error.status !== 503))
        throw error;
      if (error.status === 401 && !viewer.user && !viewer.open) {
        const next = c.req.method === "GET" ? c.req.path : (c.req.header("referer") ?? "/");
        return c.redirect(`/login?next=${encodeURIComponent(safeNext(next))}`, 303);
      }
      return render(c, web, viewer, "Error", errorPage(error.status, error.message), error.status);
    }
  };
}

/** A form's fields as strings; the CSRF field is checked for session viewers. */
export async function form(
  c: Context,
  web: WebServices,
  viewer: Viewer,
): Promise<Record<string, string>> {
  let body: Record<string, unknown>;
  try {
    body = await c.req.parseBody();
  } catch {
    throw new WebInputError("the form could not be read");
  }
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(body))
    if (typeof value === "string") fields[key] = value;
  web.requireCsrf(viewer, fields._csrf);
  return fields;
}

/** Only same-site paths may follow a sign-in. */
export function safeNext(next: string | undefined): string {
  if (!next) return "/";
  try {
    const url = new URL(next, "http://x");
    if (url.host !== "x") return "/";
    return `${url.pathname}${url.search}`;
  } catch {
    return "/";
  }
}

/** Splits `/r/<name>/-/<rest>` into the repository name and the sub-page. */
export function splitRepositoryPath(path: string, prefix: string): { name: string; rest: string } {
  const tail = decodeURI(path.slice(prefix.length));
  const at = tail.indexOf("/-/");
  if (at < 0) return { name: tail.replace(/\/$/, ""), rest: "" };
  return { name: tail.slice(0, at), rest: tail.slice(at + 3) };
}

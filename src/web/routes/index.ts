/** Mounts the pages, the JSON API and the two static files on the HTTP app. */
import type { Hono } from "hono";
import type { WebServices } from "../context.ts";
import { script, stylesheet } from "../styles.ts";
import { registerAccountPages } from "./account.ts";
import { registerApiRoutes } from "./api.ts";
import { registerBrowsePages } from "./browse.ts";

/** Registers `/`, `/search`, `/r/*`, `/u/*`, `/login`, `/logout`, `/settings/*`, `/admin*`, `/api/v1/*`. */
// biome-ignore lint/suspicious/noExplicitAny: mounts on the app whatever its variables are.
export function registerWebRoutes(app: Hono<any>, web: WebServices): void {
  const asset = (type: string, text: string) => () =>
    new Response(text, {
      headers: { "Content-Type": type, "Cache-Control": "public, max-age=3600" },
    });
  app.get("/static/flotilla.css", asset("text/css; charset=utf-8", stylesheet));
  app.get("/static/flotilla.js", asset("text/javascript; charset=utf-8", script));
  registerApiRoutes(app, web);
  registerBrowsePages(app, web);
  registerAccountPages(app, web);
}

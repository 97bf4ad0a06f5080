/** Sign-in and sign-out, tokens, follows, and the administrators' page. */
import { randomBytes } from "node:crypto";
import type { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { WebServices } from "../context.ts";
import { CsrfError } from "../errors.ts";
import { followsPage, loginPage, tokensPage } from "../pages/account.ts";
import { adminPage } from "../pages/admin.ts";
import { sessionCookie } from "../session.ts";
import { form, page, render, safeNext } from "./support.ts";

const loginCookie = "flotilla_login";

// biome-ignore lint/suspicious/noExplicitAny: pages mount on the app whatever its variables are.
export function registerAccountPages(app: Hono<any>, web: WebServices): void {
  const cookieOptions = { httpOnly: true, sameSite: "Lax" as const, secure: web.secure };

  const showLogin = (
    c: Parameters<Parameters<typeof page>[1]>[0],
    viewer: Awaited<ReturnType<WebServices["viewer"]>>,
    error?: string,
    status = 200,
    username?: string,
  ) => {
    const nonce = randomBytes(16).toString("base64url");
    setCookie(c, loginCookie, nonce, { ...cookieOptions, path: "/login", maxAge: 3600 });
    const next = safeNext(c.req.query("next") ?? c.req.header("x-next"));
    return render(
      c,
      web,
      viewer,
      "Sign in",
      loginPage({ error, next, loginToken: web.signer.loginToken(nonce), username }),
      status,
    );
  };

  app.get(
    "/login",
    page(web, async (c, viewer) => {
      if (viewer.user || viewer.open) return c.redirect(safeNext(c.req.query("next")), 303);
      return showLogin(c, viewer);
    }),
  );

  app.post(
    "/login",
    page(web, async (c, viewer) => {
      const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
      const field = (name: string) =>
        typeof body[name] === "string" ? (body[name] as string) : "";
      if (!web.signer.checkLoginToken(getCookie(c, loginCookie), field("_csrf")))
        throw new CsrfError();
      const username = field("username").trim().slice(0, 64);
      const result = await web.deps.accounts.authenticate(
        username,
        field("password"),
        web.clientAddress(c),
      );
      if (!result.ok) {
        if (result.reason === "rate-limited")
          return showLogin(
            c,
            viewer,
            `Too many failed sign-ins. Try again in ${Math.ceil((result.retryAfterSeconds ?? 900) / 60)} minutes.`,
            429,
            username,
          );
        return showLogin(c, viewer, "Wrong user name or password.", 401, username);
      }
      // A browser session is the person, not a token: tokens are for clients.
      if (result.principal.tokenId || !result.principal.user)
        return showLogin(c, viewer, "Sign in with your password, not a token.", 401, username);
      const { value } = web.signer.create(result.principal.user);
      setCookie(c, sessionCookie, value, {
        ...cookieOptions,
        path: "/",
        maxAge: web.signer.maxAgeSeconds,
      });
      deleteCookie(c, loginCookie, { path: "/login" });
      return c.redirect(safeNext(field("next")), 303);
    }),
  );

  app.post(
    "/logout",
    page(web, async (c, viewer) => {
      await form(c, web, viewer);
      const session = web.signer.read(getCookie(c, sessionCookie));
      if (session) web.store.signOut(session.id, session.expiresAt);
      deleteCookie(c, sessionCookie, { path: "/", secure: web.secure });
      return c.redirect("/", 303);
    }),
  );

  app.get(
    "/settings/tokens",
    page(web, async (c, viewer) => {
      const tokens = await web.actions.tokens(viewer);
      return render(c, web, viewer, "Tokens", tokensPage(viewer, tokens));
    }),
  );

  app.post(
    "/settings/tokens",
    page(web, async (c, viewer) => {
      const fields = await form(c, web, viewer);
      const days = fields.expiresInDays ? Number(fields.expiresInDays) : undefined;
      const created = await web.actions.createToken(viewer, {
        name: fields.name,
        scope: fields.scope,
        expiresInDays: days,
      });
      const tokens = await web.actions.tokens(viewer);
      // Shown once, on this response only; never in a URL or a cookie.
      return render(
        c,
        web,
        viewer,
        "Tokens",
        tokensPage(viewer, tokens, { name: fields.name ?? "", value: created.value }),
        201,
      );
    }),
  );

  app.post(
    "/settings/tokens/:id/revoke",
    page(web, async (c, viewer) => {
      await form(c, web, viewer);
      await web.actions.revokeToken(viewer, c.req.param("id") ?? "");
      return c.redirect("/settings/tokens", 303);
    }),
  );

  app.get(
    "/settings/follows",
    page(web, async (c, viewer) => {
      web.access.requireUser(viewer);
      const follows = await web.deps.social?.follows();
      return render(c, web, viewer, "Follows", followsPage(viewer, follows));
    }),
  );

  app.post(
    "/settings/follows",
    page(web, async (c, viewer) => {
      const fields = await form(c, web, viewer);
      const record = await web.actions.follow(viewer, fields.target ?? "");
      const follows = await web.actions.social().follows();
      return render(
        c,
        web,
        viewer,
        "Follows",
        followsPage(viewer, follows, `Following ${record.label} (${record.state}).`),
      );
    }),
  );

  app.post(
    "/settings/follows/remove",
    page(web, async (c, viewer) => {
      const fields = await form(c, web, viewer);
      await web.actions.unfollow(viewer, fields.target ?? "");
      return c.redirect("/settings/follows", 303);
    }),
  );

  app.get(
    "/admin",
    page(web, async (c, viewer) => {
      const data = await web.admin.overview(viewer);
      return render(c, web, viewer, "Administration", adminPage(viewer, data));
    }),
  );

  app.post(
    "/admin/*",
    page(web, async (c, viewer) => {
      const fields = await form(c, web, viewer);
      const path = c.req.path;
      const report = /^\/admin\/reports\/([^/]{1,200})\/resolve$/.exec(path);
      if (path === "/admin/settings")
        web.admin.updateSettings(viewer, { name: fields.name, description: fields.description });
      else if (path === "/admin/blocks")
        await web.admin.block(viewer, fields.domain ?? "", fields.reason);
      else if (path === "/admin/blocks/remove")
        await web.admin.unblock(viewer, fields.domain ?? "");
      else if (report)
        await web.admin.resolveReport(viewer, decodeURIComponent(report[1] as string));
      else return c.notFound();
      return c.redirect("/admin", 303);
    }),
  );
}

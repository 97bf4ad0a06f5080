/** The web module's services, and who is asking: a session cookie, API credentials, or nobody. */
import { timingSafeEqual } from "node:crypto";
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { anonymous } from "../accounts/index.ts";
import { OciError } from "../registry/index.ts";
import { WebAccess } from "./access.ts";
import { WebActions } from "./actions.ts";
import { AdminPages } from "./admin.ts";
import { Catalog } from "./catalog.ts";
import { CsrfError } from "./errors.ts";
import { RepositoryPages } from "./repository.ts";
import { loadSessionKey, SessionSigner, sessionCookie } from "./session.ts";
import { WebStore } from "./store.ts";
import type { Viewer, WebDeps, WebOptions } from "./types.ts";

export class WebServices {
  readonly deps: WebDeps;
  readonly options: WebOptions;
  readonly store: WebStore;
  readonly access: WebAccess;
  readonly catalog: Catalog;
  readonly repositories: RepositoryPages;
  readonly actions: WebActions;
  readonly admin: AdminPages;
  readonly signer: SessionSigner;
  readonly secure: boolean;
  readonly #viewers = new WeakMap<Request, Promise<Viewer>>();

  constructor(deps: WebDeps, options: WebOptions) {
    this.deps = deps;
    this.options = options;
    this.store = new WebStore(deps.database);
    this.access = new WebAccess(deps);
    this.catalog = new Catalog(deps, this.store, this.access);
    const parts = { store: this.store, access: this.access, catalog: this.catalog };
    this.repositories = new RepositoryPages(deps, { ...parts, publicUrl: options.publicUrl });
    this.actions = new WebActions(deps, parts);
    this.admin = new AdminPages(deps, {
      store: this.store,
      access: this.access,
      defaults: { name: options.name, description: options.description },
    });
    this.signer = new SessionSigner(loadSessionKey(options.keyFile), {
      hours: options.sessionHours,
    });
    this.secure = options.publicUrl.startsWith("https:");
  }

  /** The viewer of a request, worked out once per request. */
  viewer(c: Context): Promise<Viewer> {
    let viewer = this.#viewers.get(c.req.raw);
    if (!viewer) {
      viewer = this.#resolve(c);
      this.#viewers.set(c.req.raw, viewer);
    }
    return viewer;
  }

  /** Throws unless a session's write carries its CSRF token (form field or X-CSRF-Token). */
  requireCsrf(viewer: Viewer, presented: string | undefined): void {
    if (viewer.via !== "session") return;
    const expected = Buffer.from(viewer.csrf ?? "");
    const given = Buffer.from(presented ?? "");
    if (!expected.length || given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new CsrfError();
  }

  clientAddress(c: Context): string {
    return this.deps.clientAddress?.(c) ?? "unknown";
  }

  async #resolve(c: Context): Promise<Viewer> {
    if (!this.deps.policy)
      return { principal: { admin: true }, admin: true, open: true, via: "none" };
    const header = c.req.header("authorization");
    if (header) return this.#fromCredentials(c, header);
    const session = this.signer.read(getCookie(c, sessionCookie));
    // The cookie is signed, not stored: a copy kept after signing out must not stay valid.
    if (session && !this.store.isSignedOut(session.id)) {
      const principal = await this.deps.accounts.current(session.user, undefined);
      if (principal?.user) {
        return {
          principal,
          user: principal.user,
          admin: principal.admin,
          csrf: this.signer.csrf(session),
          open: false,
          via: "session",
        };
      }
    }
    return { principal: anonymous, admin: false, open: false, via: "none" };
  }

  /** HTTP basic credentials: a user name with a password or a personal access token. */
  async #fromCredentials(c: Context, header: string): Promise<Viewer> {
    const match = /^Basic\s+([A-Za-z0-9+/=]{1,4096})$/i.exec(header);
    const decoded = match ? Buffer.from(match[1] as string, "base64").toString() : "";
    const colon = decoded.indexOf(":");
    if (colon < 1)
      throw unauthorized("use HTTP basic credentials: a user name and a password or token");
    const result = await this.deps.accounts.authenticate(
      decoded.slice(0, colon),
      decoded.slice(colon + 1),
      this.clientAddress(c),
    );
    if (!result.ok) {
      if (result.reason === "rate-limited")
        throw new OciError("TOOMANYREQUESTS", "too many failed sign-ins; try later", {
          headers: { "Retry-After": String(result.retryAfterSeconds ?? 900) },
        });
      throw unauthorized("wrong user name, password or token");
    }
    const principal = result.principal;
    return {
      principal,
      user: principal.user,
      admin: principal.admin,
      open: false,
      via: "credentials",
    };
  }
}

function unauthorized(message: string): OciError {
  return new OciError("UNAUTHORIZED", message, {
    headers: { "WWW-Authenticate": 'Basic realm="flotilla", charset="UTF-8"' },
  });
}

/** Small page pieces: the layout with its landmarks, repository cards, copy fields, formatting. */
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { RepositorySummary, Viewer } from "../types.ts";

export type Html = HtmlEscapedString;

/** `html` for synchronous pieces only (no promises interpolated), typed as such. */
export function h(strings: TemplateStringsArray, ...values: unknown[]): Html {
  return html(strings, ...values) as Html;
}

export interface LayoutOptions {
  title: string;
  viewer: Viewer;
  instanceName: string;
  instanceDescription: string;
  query?: string;
}

export function layout(options: LayoutOptions, body: Html): Html {
  const { viewer } = options;
  return h`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · ${options.instanceName}</title>
<link rel="stylesheet" href="/static/flotilla.css">
<script src="/static/flotilla.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
<nav aria-label="Main">
<a class="brand" href="/">${options.instanceName}</a>
<form role="search" action="/search" method="get">
<label class="sr-only" for="site-search">Search repositories</label>
<input id="site-search" type="search" name="q" value="${options.query ?? ""}" placeholder="Search repositories">
<button type="submit">Search</button>
</form>
<ul>
${
  viewer.user
    ? h`<li><a href="/u/${viewer.user}">${viewer.user}</a></li>
<li><a href="/settings/tokens">Tokens</a></li>
<li><a href="/settings/follows">Follows</a></li>
${viewer.admin ? h`<li><a href="/admin">Admin</a></li>` : ""}
<li><form class="inline" method="post" action="/logout">${csrfField(viewer)}<button type="submit" class="secondary">Sign out</button></form></li>`
    : viewer.open
      ? h`<li><a href="/admin">Admin</a></li>`
      : h`<li><a href="/login">Sign in</a></li>`
}
</ul>
</nav>
</header>
<main id="main">
${body}
</main>
<footer>
<p>${options.instanceDescription}</p>
<p><a href="/api/v1/openapi.json">JSON API</a></p>
</footer>
</body>
</html>`;
}

export function csrfField(viewer: Viewer): Html {
  return viewer.csrf ? h`<input type="hidden" name="_csrf" value="${viewer.csrf}">` : h``;
}

/** The path of a repository's page (mirrored names keep their host part). */
export function repoHref(name: string): string {
  return `/r/${name}`;
}

export function repoCard(repo: RepositorySummary): Html {
  const href = repo.remote ? (repo.remote.url ?? repo.remote.actorId) : repoHref(repo.name);
  return h`<li class="card">
<h3><a href="${href}">${repo.name}</a></h3>
${repo.description ? h`<p>${repo.description}</p>` : ""}
<p class="meta">
${repo.instance === "local" ? "here" : h`from ${repo.instance}`}
· ${repo.tags} tag${repo.tags === 1 ? "" : "s"}
${repo.lastPushAt ? h` · pushed ${time(repo.lastPushAt)}` : ""}
· <span aria-label="${repo.stars} stars">★ ${repo.stars}</span>
</p>
<p>${repo.signed ? h`<span class="badge signed">signed</span>` : ""}${repo.platforms.map((p) => h`<span class="badge">${p}</span>`)}${repo.remote ? h`<span class="badge">${repo.remote.followed ? "followed" : "remote"}</span>` : ""}</p>
</li>`;
}

export function repoList(
  title: string,
  id: string,
  items: RepositorySummary[],
  empty: string,
): Html {
  return h`<section aria-labelledby="${id}">
<h2 id="${id}">${title}</h2>
${items.length ? h`<ul class="grid">${items.map(repoCard)}</ul>` : h`<p class="meta">${empty}</p>`}
</section>`;
}

/** A read-only command with a copy button; the button's data is the exact text copied. */
export function copyField(id: string, label: string, value: string): Html {
  return h`<div class="copy">
<label for="${id}">${label}</label>
<input id="${id}" type="text" readonly value="${value}">
<button type="button" data-copy="${value}" aria-controls="${id}" aria-label="Copy: ${label}">Copy</button>
</div>`;
}

export function time(ms: number): Html {
  const iso = new Date(ms).toISOString();
  return h`<time datetime="${iso}">${iso.slice(0, 16).replace("T", " ")} UTC</time>`;
}

export function bytes(size: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function notice(text: string | Html, kind: "info" | "error" = "info"): Html {
  return h`<div class="notice ${kind === "error" ? "error" : ""}" role="${kind === "error" ? "alert" : "status"}">${text}</div>`;
}

/** A one-button POST form with the CSRF field. */
export function postButton(
  viewer: Viewer,
  action: string,
  label: string,
  options: { fields?: Record<string, string>; kind?: "secondary" | "danger" } = {},
): Html {
  return h`<form class="inline" method="post" action="${action}">${csrfField(viewer)}${Object.entries(
    options.fields ?? {},
  ).map(
    ([k, v]) => h`<input type="hidden" name="${k}" value="${v}">`,
  )}<button type="submit" class="${options.kind ?? ""}">${label}</button></form>`;
}

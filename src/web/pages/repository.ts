/** The repository page and its manifest sub-page. */
import { raw } from "hono/html";
import type { ManifestDetail, RepositoryDetail } from "../repository.ts";
import type { Viewer } from "../types.ts";
import {
  bytes,
  copyField,
  csrfField,
  type Html,
  h,
  postButton,
  repoHref,
  time,
} from "./components.ts";

export function repositoryPage(
  detail: RepositoryDetail,
  viewer: Viewer,
  readmeHtml: string,
  federation: boolean,
): Html {
  const base = `${repoHref(detail.name)}/-`;
  return h`<h1>${detail.name}</h1>
${detail.description ? h`<p>${detail.description}</p>` : ""}
<p class="meta">${detail.instance === "local" ? "Pushed here" : h`Mirrored from ${detail.instance}`}
${detail.counts ? h` · <span id="stars">★ ${detail.counts.stars} star${detail.counts.stars === 1 ? "" : "s"}</span> · ${detail.counts.boosts} boosts · ${detail.counts.followers} followers` : ""}</p>
<div class="actions">
${
  !federation
    ? h`<span class="meta">Federation is off: no stars, boosts or follows.</span>`
    : viewer.user
      ? h`${
          detail.starred
            ? postButton(viewer, `${base}/unstar`, "Unstar", { kind: "secondary" })
            : postButton(viewer, `${base}/star`, "Star")
        }
${viewer.admin ? postButton(viewer, `${base}/boost`, "Boost", { kind: "secondary" }) : ""}
<a href="${base}/report">Report</a>`
      : h`<a href="/login?next=${encodeURIComponent(repoHref(detail.name))}">Sign in</a> to star or report.`
}
</div>
<div class="columns">
<div>
<section aria-labelledby="pull"><h2 id="pull">Pull</h2>
${detail.pull.tag ? copyField("pull-tag", "By tag", `docker pull ${detail.pull.tag}`) : h`<p class="meta">No tags yet.</p>`}
${detail.pull.digest ? copyField("pull-digest", "By digest", `docker pull ${detail.pull.digest}`) : ""}
${detail.pull.cid ? copyField("pull-cid", "By IPFS CID", `docker pull ${detail.pull.cid}`) : ""}
</section>
<section aria-labelledby="tags"><h2 id="tags">Tags</h2>
<div class="table"><table>
<thead><tr><th scope="col">Tag</th><th scope="col">Digest</th><th scope="col">Size</th><th scope="col" class="optional">Platforms</th><th scope="col" class="optional">Pushed</th></tr></thead>
<tbody>
${detail.tags.map(
  (
    t,
  ) => h`<tr><th scope="row">${t.name}${t.signed ? h` <span class="badge signed">signed</span>` : ""}</th>
<td><a class="mono" href="${base}/manifest/${t.digest}">${t.digest.slice(0, 19)}…</a></td>
<td>${bytes(t.size)}</td><td class="optional">${t.platforms.join(", ") || "—"}</td><td class="optional">${time(t.pushedAt)}</td></tr>`,
)}
</tbody></table></div>
</section>
<section aria-labelledby="readme"><h2 id="readme">README</h2>
${readmeHtml ? h`<div class="readme">${raw(readmeHtml)}</div>` : h`<p class="meta">No README.</p>`}
</section>
</div>
<aside aria-label="About this repository">
${
  detail.handle || detail.actorUrl
    ? h`<h2>Follow</h2>
${detail.handle ? copyField("handle", "Fediverse handle of the namespace", detail.handle) : ""}
${detail.actorUrl ? copyField("actor", "Repository to follow (URL)", detail.actorUrl) : ""}`
    : ""
}
${
  detail.origin
    ? h`<h2>Origin</h2><p><a href="${detail.origin.actorId}">${detail.origin.name}</a> on ${detail.origin.registryUrl}</p>
<p class="meta">${detail.origin.lastClaimAt ? h`last update ${detail.origin.lastClaimAt}` : "no update yet"}${detail.origin.lastError ? h` · last error: ${detail.origin.lastError}` : ""}</p>`
    : ""
}
${detail.can.manage ? settingsForm(detail, viewer, base) : ""}
</aside>
</div>`;
}

function settingsForm(detail: RepositoryDetail, viewer: Viewer, base: string): Html {
  return h`<h2 id="settings">Settings</h2>
<form method="post" action="${base}/settings" aria-labelledby="settings">
${csrfField(viewer)}
<label for="description">Description</label>
<input id="description" name="description" maxlength="300" value="${detail.description}" class="wide">
<label for="readme-source">README (Markdown)</label>
<textarea id="readme-source" name="readme">${detail.readme}</textarea>
<label for="visibility">Visibility</label>
<select id="visibility" name="visibility">
${(["inherit", "public", "private"] as const).map((v) => h`<option value="${v}" ${detail.visibility === v ? "selected" : ""}>${v === "inherit" ? "as the namespace" : v}</option>`)}
</select>
<p><button type="submit">Save</button></p>
</form>`;
}

export function reportPage(name: string, viewer: Viewer): Html {
  return h`<h1>Report ${name}</h1>
<form method="post" action="${repoHref(name)}/-/report">
${csrfField(viewer)}
<label for="text">What is wrong?</label>
<textarea id="text" name="text" required maxlength="2000"></textarea>
<p><button type="submit">Send report</button></p>
</form>`;
}

export function manifestPage(detail: ManifestDetail): Html {
  const base = `${repoHref(detail.repository)}/-/manifest`;
  const rows = (
    items: Array<{ digest: string; size: number; mediaType: string; platform?: string }>,
    link: boolean,
  ) =>
    h`<div class="table"><table><thead><tr><th scope="col">Digest</th><th scope="col">Media type</th><th scope="col">Size</th>${link ? h`<th scope="col">Platform</th>` : ""}</tr></thead><tbody>
${items.map(
  (i) =>
    h`<tr><td class="mono">${link ? h`<a href="${base}/${i.digest}">${i.digest}</a>` : i.digest}</td><td class="mono">${i.mediaType}</td><td>${bytes(i.size)}</td>${link ? h`<td>${i.platform ?? "—"}</td>` : ""}</tr>`,
)}</tbody></table></div>`;
  return h`<p><a href="${repoHref(detail.repository)}">← ${detail.repository}</a></p>
<h1 class="mono">${detail.digest}</h1>
<dl>
<dt>Media type</dt><dd class="mono">${detail.mediaType}</dd>
<dt>Total size</dt><dd>${bytes(detail.size)}</dd>
<dt>Tags</dt><dd>${detail.tags.join(", ") || "—"}</dd>
<dt>Platforms</dt><dd>${detail.platforms.join(", ") || "—"}</dd>
${detail.cid ? h`<dt>IPFS CID</dt><dd class="mono">${detail.cid}</dd>` : ""}
</dl>
${detail.config ? h`<h2>Config</h2>${rows([detail.config], false)}` : ""}
${detail.layers.length ? h`<h2>Layers</h2>${rows(detail.layers, false)}` : ""}
${detail.manifests.length ? h`<h2>Manifests</h2>${rows(detail.manifests, true)}` : ""}
${detail.referrers.length ? h`<h2>Referrers</h2><ul>${detail.referrers.map((r) => h`<li><a class="mono" href="${base}/${r.digest}">${r.digest}</a> ${r.artifactType ?? r.mediaType}</li>`)}</ul>` : ""}
${Object.keys(detail.annotations).length ? h`<h2>Annotations</h2><dl>${Object.entries(detail.annotations).map(([k, v]) => h`<dt class="mono">${k}</dt><dd>${v}</dd>`)}</dl>` : ""}`;
}

/** The administrators' page: settings, storage and GC, mirrors, blocked domains, reports. */
import type { AdminOverview } from "../admin.ts";
import type { Viewer } from "../types.ts";
import { bytes, csrfField, type Html, h, postButton, repoHref, time } from "./components.ts";

export function adminPage(viewer: Viewer, data: AdminOverview): Html {
  return h`<h1>Administration</h1>
<section aria-labelledby="settings"><h2 id="settings">Instance</h2>
<form method="post" action="/admin/settings">${csrfField(viewer)}
<label for="instance-name">Name</label><input id="instance-name" name="name" required maxlength="100" value="${data.settings.name}">
<label for="instance-description">Description</label><textarea id="instance-description" name="description" maxlength="1000">${data.settings.description}</textarea>
<p><button type="submit">Save</button></p></form>
</section>
<section aria-labelledby="storage"><h2 id="storage">Storage</h2>
<p>${data.storage.repositories} repositories · ${data.storage.blobs} blobs · ${bytes(data.storage.bytes)}</p>
${
  data.runs === undefined
    ? ""
    : data.runs.length
      ? h`<div class="table"><table><caption class="meta">Garbage collection and retention runs</caption><thead><tr><th scope="col">Run</th><th scope="col">Started</th><th scope="col" class="optional">Seconds</th><th scope="col">Result</th></tr></thead><tbody>
${data.runs.map(
  (
    r,
  ) => h`<tr><th scope="row">${r.kind}${r.dryRun ? " (dry run)" : ""}, ${r.trigger}</th><td>${time(r.startedAt)}</td><td class="optional">${((r.finishedAt - r.startedAt) / 1000).toFixed(1)}</td>
<td>${r.error ? h`error: ${r.error}` : r.bytesFreed !== undefined ? `${bytes(r.bytesFreed)} freed` : "done"}</td></tr>`,
)}</tbody></table></div>`
      : h`<p class="meta">No garbage collection run yet.</p>`
}
<p class="meta">Run GC, see quotas: <a href="/api/v1/admin/gc">/api/v1/admin/gc</a>, <a href="/api/v1/quotas">/api/v1/quotas</a>.</p>
</section>
<section aria-labelledby="mirrors"><h2 id="mirrors">Mirrors</h2>
${
  data.mirrors === undefined
    ? h`<p class="meta">Mirroring is off.</p>`
    : data.mirrors.length
      ? h`<div class="table"><table><thead><tr><th scope="col">Here as</th><th scope="col">Origin</th><th scope="col">Tags</th><th scope="col" class="optional">Last update</th><th scope="col">Status</th></tr></thead><tbody>
${data.mirrors.map(
  (
    m,
  ) => h`<tr><th scope="row"><a href="${repoHref(m.localName)}">${m.localName}</a></th><td>${m.registryUrl}/${m.name}</td><td>${m.tags}</td>
<td class="optional">${m.lastClaimAt ? time(m.lastClaimAt.getTime()) : "—"}</td><td>${m.lastError ? h`error: ${m.lastError}` : "ok"}</td></tr>`,
)}</tbody></table></div>`
      : h`<p class="meta">No mirrors.</p>`
}
</section>
${
  data.federation
    ? h`<section aria-labelledby="blocks"><h2 id="blocks">Blocked domains</h2>
<ul>${(data.blockedDomains ?? []).map((b) => h`<li>${b.domain}${b.reason ? h` — ${b.reason}` : ""} ${postButton(viewer, "/admin/blocks/remove", "Unblock", { kind: "secondary", fields: { domain: b.domain } })}</li>`)}</ul>
<form method="post" action="/admin/blocks" aria-label="Block a domain">${csrfField(viewer)}
<label for="block-domain">Domain</label><input id="block-domain" name="domain" required>
<label for="block-reason">Reason</label><input id="block-reason" name="reason" maxlength="500">
<button type="submit" class="danger">Block</button></form>
</section>
<section aria-labelledby="reports"><h2 id="reports">Reports</h2>
${
  data.reports?.length
    ? h`<ul>${data.reports.map(
        (
          r,
        ) => h`<li><strong>${r.label}</strong> by ${r.reporter} (${r.origin}), ${time(r.createdAt.getTime())}: ${r.text}
${postButton(viewer, `/admin/reports/${r.id}/resolve`, "Resolve", { kind: "secondary" })}</li>`,
      )}</ul>`
    : h`<p class="meta">No open reports.</p>`
}
</section>`
    : h`<section><h2>Federation</h2><p class="meta">Federation is off: no blocked domains or reports.</p></section>`
}`;
}

export function errorPage(status: number, message: string): Html {
  return h`<h1>${status === 404 ? "Not found" : status === 401 ? "Sign in required" : status === 403 ? "Not allowed" : "Something went wrong"}</h1>
<div class="notice error" role="alert">${message}</div>
<p><a href="/">Home</a></p>`;
}

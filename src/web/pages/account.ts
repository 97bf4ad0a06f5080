/** Sign-in, personal access tokens, follows, and namespace pages. */
import type { FollowRecord } from "../../federation/types.ts";
import type { TokenRecord } from "../../meta/index.ts";
import type { NamespaceDetail } from "../actions.ts";
import type { Viewer } from "../types.ts";
import {
  copyField,
  csrfField,
  type Html,
  h,
  notice,
  postButton,
  repoList,
  time,
} from "./components.ts";

export function loginPage(options: {
  error?: string;
  next: string;
  loginToken: string;
  username?: string;
}): Html {
  return h`<h1>Sign in</h1>
${options.error ? notice(options.error, "error") : ""}
<form method="post" action="/login" class="narrow">
<input type="hidden" name="_csrf" value="${options.loginToken}">
<input type="hidden" name="next" value="${options.next}">
<label for="username">User name</label>
<input id="username" name="username" autocomplete="username" required value="${options.username ?? ""}" class="wide">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required class="wide">
<p><button type="submit">Sign in</button></p>
</form>`;
}

type TokenView = Omit<TokenRecord, "secretHash">;

export function tokensPage(
  viewer: Viewer,
  tokens: TokenView[],
  created?: { name: string; value: string },
): Html {
  return h`<h1>Personal access tokens</h1>
<p>Use a token as the password of <code>docker login</code>, <code>podman login</code> or <code>skopeo --creds</code>.</p>
${
  created
    ? h`${notice(h`Token <strong>${created.name}</strong> created. Copy it now: it is not shown again.`)}
${copyField("new-token", "New token", created.value)}`
    : ""
}
<h2 id="new">New token</h2>
<form method="post" action="/settings/tokens" aria-labelledby="new">
${csrfField(viewer)}
<label for="token-name">Name</label>
<input id="token-name" name="name" required maxlength="100">
<label for="token-scope">Scope</label>
<select id="token-scope" name="scope">
<option value="pull">pull</option><option value="push" selected>push (pull and push)</option><option value="admin">admin (everything you may do)</option>
</select>
<label for="token-expiry">Expires after (days, empty for never)</label>
<input id="token-expiry" name="expiresInDays" type="number" min="1" max="3650" inputmode="numeric">
<p><button type="submit">Create token</button></p>
</form>
<h2>Your tokens</h2>
${
  tokens.length
    ? h`<div class="table"><table><thead><tr><th scope="col">Name</th><th scope="col">Scope</th><th scope="col" class="optional">Created</th><th scope="col" class="optional">Expires</th><th scope="col" class="optional">Last used</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead><tbody>
${tokens.map(
  (
    t,
  ) => h`<tr><th scope="row">${t.name}</th><td>${t.scope}</td><td class="optional">${time(t.createdAt)}</td>
<td class="optional">${t.expiresAt ? time(t.expiresAt) : "never"}</td><td class="optional">${t.lastUsedAt ? time(t.lastUsedAt) : "never"}</td>
<td>${postButton(viewer, `/settings/tokens/${t.id}/revoke`, "Revoke", { kind: "danger" })}</td></tr>`,
)}</tbody></table></div>`
    : h`<p class="meta">No tokens.</p>`
}`;
}

export function followsPage(
  viewer: Viewer,
  follows: FollowRecord[] | undefined,
  message?: string,
): Html {
  if (!follows) return h`<h1>Follows</h1>${notice("Federation is off on this instance.")}`;
  return h`<h1>Follows</h1>
${message ? notice(message) : ""}
<p>This instance follows these repositories and namespaces on other instances, and mirrors what they push.</p>
<form method="post" action="/settings/follows" aria-label="Follow">
${csrfField(viewer)}
<label for="target">Handle (<code>@alice@other.example</code>) or repository URL</label>
<input id="target" name="target" required maxlength="500" class="wide">
<p><button type="submit">Follow</button></p>
</form>
${
  follows.length
    ? h`<div class="table"><table><thead><tr><th scope="col">Followed</th><th scope="col">Kind</th><th scope="col">State</th><th scope="col" class="optional">Since</th>${viewer.admin ? h`<th scope="col"><span class="sr-only">Actions</span></th>` : ""}</tr></thead><tbody>
${follows.map(
  (
    f,
  ) => h`<tr><th scope="row"><a href="${f.actorId}">${f.label}</a></th><td>${f.kind}</td><td>${f.state}</td><td class="optional">${time(f.createdAt.getTime())}</td>
${viewer.admin ? h`<td>${postButton(viewer, "/settings/follows/remove", "Unfollow", { kind: "danger", fields: { target: f.actorId } })}</td>` : ""}</tr>`,
)}</tbody></table></div>`
    : h`<p class="meta">Nothing followed yet.</p>`
}`;
}

export function namespacePage(viewer: Viewer, ns: NamespaceDetail): Html {
  const base = `/u/${ns.name}/-`;
  return h`<h1>${ns.name}</h1>
<p class="meta">${ns.kind === "org" ? "Organization" : "User"} · repositories are ${ns.defaultVisibility} unless set otherwise</p>
${ns.handle ? copyField("handle", "Fediverse handle", ns.handle) : ""}
${repoList("Repositories", "repositories", ns.repositories, "No repositories you can see.")}
${
  ns.members
    ? h`<section aria-labelledby="members"><h2 id="members">Members</h2>
<div class="table"><table><thead><tr><th scope="col">User</th><th scope="col">Role</th>${ns.can.manage ? h`<th scope="col"><span class="sr-only">Actions</span></th>` : ""}</tr></thead><tbody>
${ns.members.map(
  (m) => h`<tr><th scope="row"><a href="/u/${m.user}">${m.user}</a></th><td>${m.role}</td>
${ns.can.manage ? h`<td>${postButton(viewer, `${base}/members`, "Remove", { kind: "danger", fields: { user: m.user, role: "remove" } })}</td>` : ""}</tr>`,
)}</tbody></table></div>
${ns.can.manage ? memberForm(viewer, base) : ""}
</section>`
    : ""
}
${
  ns.can.manage
    ? h`<h2 id="ns-visibility">Default visibility</h2>
<form method="post" action="${base}/visibility" aria-labelledby="ns-visibility">${csrfField(viewer)}
<label for="visibility">New repositories are</label>
<select id="visibility" name="visibility">${(["public", "private"] as const).map((v) => h`<option ${ns.defaultVisibility === v ? "selected" : ""}>${v}</option>`)}</select>
<button type="submit">Save</button></form>`
    : ""
}`;
}

function memberForm(viewer: Viewer, base: string): Html {
  return h`<form method="post" action="${base}/members" aria-label="Add or change a member">${csrfField(viewer)}
<label for="member-user">User</label><input id="member-user" name="user" required>
<label for="member-role">Role</label>
<select id="member-role" name="role"><option>reader</option><option>maintainer</option><option>owner</option></select>
<button type="submit">Add or change</button></form>`;
}

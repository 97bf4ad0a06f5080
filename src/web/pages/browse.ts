/** The home page and the search page. */
import type { HomeData } from "../catalog.ts";
import type { RepositorySummary, SearchFilters } from "../types.ts";
import { type Html, h, repoHref, repoList } from "./components.ts";

export function homePage(data: HomeData, about: { name: string; description: string }): Html {
  return h`<h1>${about.name}</h1>
<p>${about.description}</p>
${repoList("Recent pushes", "recent", data.recent, "Nothing pushed here yet.")}
${
  data.federation
    ? h`${repoList("Recently mirrored", "mirrored", data.mirrored, "No mirrored repositories yet: follow one from Follows.")}
<section aria-labelledby="boosted"><h2 id="boosted">Curated by this instance</h2>
${
  data.boosted.length
    ? h`<ul>${data.boosted.map(
        (b) =>
          h`<li><a href="${b.local ? repoHref(b.local) : b.actorId}">${b.label}</a> <span class="meta">boosted by ${b.by}</span></li>`,
      )}</ul>`
    : h`<p class="meta">Nothing boosted yet.</p>`
}
</section>`
    : h`<section aria-labelledby="federation"><h2 id="federation">Federation</h2><p class="meta">Federation is off on this instance: no mirrors, boosts or stars.</p></section>`
}
${repoList("Most starred", "starred", data.starred, "No stars yet.")}`;
}

export function searchPage(
  filters: SearchFilters,
  results: RepositorySummary[],
  choices: { platforms: string[]; instances: string[] },
): Html {
  return h`<h1>Search</h1>
<form method="get" action="/search" aria-label="Search with filters">
<div class="filters">
<div>
<label for="q">Query</label>
<input id="q" type="search" name="q" value="${filters.query}" class="wide">
</div>
<div>
<label for="instance">Instance</label>
<select id="instance" name="instance">
<option value="">any</option>
${["local", ...choices.instances].map((i) => h`<option value="${i}" ${filters.instance === i ? "selected" : ""}>${i === "local" ? "this instance" : i}</option>`)}
</select>
</div>
<div>
<label for="namespace">Namespace</label>
<input id="namespace" name="namespace" value="${filters.namespace ?? ""}">
</div>
<div>
<label for="platform">Platform</label>
<select id="platform" name="platform">
<option value="">any</option>
${choices.platforms.map((p) => h`<option ${filters.platform === p ? "selected" : ""}>${p}</option>`)}
</select>
</div>
<div>
<label><input type="checkbox" name="signed" value="1" ${filters.signed ? "checked" : ""}> Signed only</label>
</div>
</div>
<p><button type="submit">Search</button></p>
</form>
${repoList(`${results.length} result${results.length === 1 ? "" : "s"}`, "results", results, "No repositories match.")}`;
}

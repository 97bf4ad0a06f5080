/** Search filters from a query string, the same for the search page and the JSON API. */
import type { SearchFilters } from "../types.ts";

export function searchFilters(query: (name: string) => string | undefined): SearchFilters {
  const text = (name: string, max: number) => (query(name) ?? "").trim().slice(0, max) || undefined;
  const limit = Number.parseInt(query("limit") ?? "", 10);
  const signed = query("signed");
  return {
    query: text("q", 200) ?? "",
    instance: text("instance", 255),
    namespace: text("namespace", 255),
    platform: text("platform", 100),
    signed: signed === "1" || signed === "true" || signed === "on",
    limit: Number.isFinite(limit) ? Math.min(Math.max(limit, 1), 100) : 30,
  };
}

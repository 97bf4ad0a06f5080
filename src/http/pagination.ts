/** `n`/`last` pagination and the `Link: <...>; rel="next"` header, as distribution does them. */
import type { Context } from "hono";
import { PaginationInvalidError } from "../registry/index.ts";

export const maxPageSize = 1000;

export interface Page {
  limit: number;
  last?: string;
}

export function pageOf(c: Context): Page {
  const n = c.req.query("n");
  const last = c.req.query("last") || undefined;
  if (n === undefined || n === "") return { limit: maxPageSize, last };
  if (!/^\d{1,9}$/.test(n)) throw new PaginationInvalidError(n.slice(0, 32));
  return { limit: Math.min(Number(n), maxPageSize), last };
}

/** Adds the next-page link when the page came back full. */
export function setNextLink(c: Context, path: string, page: Page, items: string[]): void {
  const lastItem = items.at(-1);
  if (page.limit === 0 || items.length < page.limit || lastItem === undefined) return;
  const query = new URLSearchParams({ n: String(page.limit), last: lastItem });
  c.header("Link", `<${path}?${query}>; rel="next"`);
}

/** The repository name of a `/v2/<name>/...` route, validated. */
import type { Context } from "hono";
import { checkName } from "../../registry/index.ts";

export function repositoryOf(c: Context): string {
  return checkName(c.req.param("name") ?? "");
}

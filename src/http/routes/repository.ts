/** The repository name of a `/v2/<name>/...` route: validated, then authorized for one action. */
import type { Context } from "hono";
import type { Action } from "../../accounts/index.ts";
import { checkName } from "../../registry/index.ts";
import type { HttpEnv } from "../types.ts";

/** Routes get their repository only through here, so none can skip the access check. */
export async function repositoryFor(c: Context<HttpEnv>, action: Action): Promise<string> {
  const name = checkName(c.req.param("name") ?? "");
  await c.get("access").require(name, action);
  return name;
}

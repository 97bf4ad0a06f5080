/** Types shared by the HTTP layer. */
import type { Context, Hono } from "hono";
import type { Logger } from "../log/index.ts";
import type { RequestAccess } from "./auth/access.ts";

export interface HttpVariables {
  requestId: string;
  log: Logger;
  /** Headers every response carries (request id, API version). */
  baseHeaders: Record<string, string>;
  /** What this request's caller may do; set by the auth middleware. */
  access: RequestAccess;
}

export type HttpEnv = { Variables: HttpVariables };
export type HttpApp = Hono<HttpEnv>;
export type HttpContext = Context<HttpEnv>;

/** Types shared by the HTTP layer. */
import type { Context, Hono } from "hono";
import type { Logger } from "../log/index.ts";

export interface HttpVariables {
  requestId: string;
  log: Logger;
  /** Headers every response carries (request id, API version). */
  baseHeaders: Record<string, string>;
}

export type HttpEnv = { Variables: HttpVariables };
export type HttpApp = Hono<HttpEnv>;
export type HttpContext = Context<HttpEnv>;

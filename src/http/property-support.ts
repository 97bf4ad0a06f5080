/** What property tests assert of every HTTP answer: no 5xx, no exception, OCI error bodies. */
import { ociErrorStatus } from "../registry/index.ts";
import type { HttpApp } from "./types.ts";

/** The codes of the error table, and NOT_FOUND for paths outside the API. */
const knownCodes = new Set([...Object.keys(ociErrorStatus), "NOT_FOUND"]);

/** Sends one request and returns why its answer is not well-formed, or undefined. */
export async function illFormed(
  app: HttpApp,
  path: string,
  init: RequestInit,
): Promise<string | undefined> {
  let res: Response;
  try {
    res = await app.request(path, init);
  } catch (error) {
    return `threw ${(error as Error).message}`;
  }
  const text = await res.text();
  if (res.status >= 500) return `${res.status} ${text.slice(0, 200)}`;
  if (res.status < 400 || init.method === "HEAD") return undefined;
  try {
    const body = JSON.parse(text) as { errors: { code: string; message: string }[] };
    const code = body.errors[0]?.code ?? "";
    if (!knownCodes.has(code)) return `unknown code ${code}`;
    if (typeof body.errors[0]?.message !== "string") return "no message";
  } catch {
    return `${res.status} body is not an OCI error: ${text.slice(0, 100)}`;
  }
  return undefined;
}

/** Whether the web API can build this request at all (it refuses some header values itself). */
export function buildable(path: string, init: RequestInit): boolean {
  try {
    new Request(`http://localhost${path}`, init);
    return true;
  } catch {
    return false;
  }
}

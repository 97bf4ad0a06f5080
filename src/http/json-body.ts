/** The small JSON bodies of the admin API: one object, read whole, never more than 16 KiB. */
import { OciError } from "../registry/index.ts";
import type { HttpContext } from "./types.ts";

const maxBodyBytes = 16 * 1024;

/** The request body as a JSON object; 413 when too large, 400 when not a JSON object. */
export async function jsonObjectBody(c: HttpContext): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (text.length > maxBodyBytes)
    throw new OciError("SIZE_INVALID", "body too large", { status: 413 });
  try {
    const value = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
  } catch {
    // answered below
  }
  throw new OciError("UNSUPPORTED", "expected a JSON object", { status: 400 });
}

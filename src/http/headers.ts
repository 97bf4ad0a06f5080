/** Parsers for the HTTP headers the API reads; each returns undefined for garbage. */

export interface ParsedRange {
  start: number;
  end: number;
}

const contentRange = /^(?:bytes[ =])?(\d{1,15})-(\d{1,15})(?:\/(?:\d{1,15}|\*))?$/;

/** `Content-Range` of an upload chunk: `<start>-<end>` (also `bytes <start>-<end>/<total>`). */
export function parseContentRange(value: string): ParsedRange | undefined {
  const match = contentRange.exec(value.trim());
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = Number(match[2]);
  return end >= start ? { start, end } : undefined;
}

/**
 * A single `Range: bytes=` request against a blob of `size` bytes. Returns "unsatisfiable" for a
 * valid range outside the blob, undefined for anything to ignore (serve the whole blob).
 */
export function parseRange(value: string, size: number): ParsedRange | "unsatisfiable" | undefined {
  const match = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(value.trim());
  if (!match || (match[1] === "" && match[2] === "")) return undefined;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0) return "unsatisfiable";
    return size === 0 ? "unsatisfiable" : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (match[2] !== "" && Number(match[2]) < start) return undefined;
  if (start >= size) return "unsatisfiable";
  return { start, end };
}

/** A non-negative decimal `Content-Length`, or undefined. */
export function parseLength(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}

/** The media types of an `Accept` header (several headers or comma lists). */
export function parseAccept(values: string | undefined): string[] | undefined {
  if (!values) return undefined;
  return values
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
}

/**
 * Fedify logs through LogTape; without this its warnings (a delivery that failed, a signature that
 * did not verify) would go nowhere. They join the instance's own logs under `fedify.*` categories.
 */
import { configureSync, type LogRecord } from "@logtape/logtape";
import type { Logger } from "../log/index.ts";

let configured = false;

/** Routes Fedify's warnings and errors to pino; once per process. */
export function forwardFedifyLogs(log: Logger): void {
  if (configured) return;
  configured = true;
  const sink = (record: LogRecord) => {
    const message = record.message
      .map((part) => (typeof part === "string" ? part : (JSON.stringify(part) ?? String(part))))
      .join("");
    const fields = { category: record.category.join("."), ...safe(record.properties) };
    if (record.level === "error" || record.level === "fatal") log.error(fields, message);
    else log.warn(fields, message);
  };
  try {
    configureSync({
      sinks: { pino: sink },
      loggers: [
        { category: ["fedify"], sinks: ["pino"], lowestLevel: "warning" },
        { category: ["logtape", "meta"], sinks: [], lowestLevel: "error" },
      ],
    });
  } catch (error) {
    // Someone else configured LogTape already: theirs stands, federation still runs.
    log.warn({ category: "federation", err: error }, "Fedify's logs not forwarded");
  }
}

/** Properties as plain JSON (activities and errors can be large or circular). */
function safe(properties: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(properties)) {
    if (value instanceof Error) out[key] = value.message;
    else if (value instanceof URL) out[key] = value.href;
    else if (typeof value === "string" || typeof value === "number" || typeof value === "boolean")
      out[key] = typeof value === "string" ? value.slice(0, 500) : value;
  }
  return out;
}

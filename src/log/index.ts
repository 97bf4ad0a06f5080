/** Structured logging: pino, one `category` per folder, request ids on request-scoped children. */
import { type Logger as PinoLogger, pino } from "pino";

export type Logger = PinoLogger;

export interface LogOptions {
  level: string;
  /** "json" for machines; "pretty" writes one short readable line per entry. */
  format: "json" | "pretty";
}

/** Builds the root logger; secrets in headers never reach it (see `redact`). */
export function createLogger(options: LogOptions, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level: options.level,
      base: undefined,
      redact: {
        paths: ["headers.authorization", "headers.cookie", "password", "token", "*.password"],
        censor: "[redacted]",
      },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.format === "pretty"
      ? prettyStream(destination ?? process.stdout)
      : (destination ?? process.stdout),
  ) as Logger;
}

/** A dependency-free human format for terminals: `time level category: msg key=value`. */
function prettyStream(out: NodeJS.WritableStream): { write(line: string): void } {
  return {
    write(line: string) {
      try {
        const { time, level, category, msg, ...rest } = JSON.parse(line) as Record<string, unknown>;
        const fields = Object.entries(rest)
          .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
          .join(" ");
        const clock = typeof time === "string" ? time.slice(11, 19) : "";
        out.write(
          `${clock} ${String(level).padEnd(5)} ${category ? `${String(category)}: ` : ""}${msg ?? ""}${fields ? ` ${fields}` : ""}\n`,
        );
      } catch {
        out.write(line);
      }
    },
  };
}

/** A logger that drops everything, for tests. */
export function silentLogger(): Logger {
  return pino({ level: "silent" }) as Logger;
}

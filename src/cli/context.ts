/** What CLI commands share: the configuration, the data directory's stores, readable failures. */
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { AccountService } from "../accounts/index.ts";
import { type Config, loadConfig } from "../config/index.ts";
import { type Scope, TokenSigner } from "../http/auth/index.ts";
import { SqliteAccountStore, SqliteDatabase } from "../meta/index.ts";
import { SqliteMirrorStore } from "../mirror/store.ts";

/** A mistake by the person at the terminal: printed as one line, exit code 1, no stack trace. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface CliContext {
  config: Config;
  accounts: AccountService;
  database: SqliteDatabase;
  close(): void;
}

/** Opens the instance's database directly (SQLite allows this while the server runs). */
export function openContext(configFile: string | undefined): CliContext {
  const config = loadConfig(configFile);
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const database = new SqliteDatabase(join(dataDir, "meta.db"));
  const mirrors = new SqliteMirrorStore(database);
  const accounts = new AccountService(new SqliteAccountStore(database), {
    refreshTokenDays: config.auth.refreshTokenDays,
    isMirroredHost: async (name) => mirrors.hasNamespace(name),
  });
  return { config, accounts, database, close: () => database.close() };
}

/**
 * A Bearer token for the first administrator, signed with the instance's key, when auth is on:
 * whoever can read the data directory runs the instance, so the CLI acts as its operator.
 * `access` lists the registry scopes the token grants; admin API routes need none.
 */
export async function operatorAuthorization(
  context: CliContext,
  access: Scope[] = [],
): Promise<string | undefined> {
  const { config } = context;
  if (!config.auth.enabled) return undefined;
  const keyFile = config.auth.keyFile ?? join(resolve(config.dataDir), "keys", "token-signing.pem");
  if (!existsSync(keyFile)) return undefined;
  const admin = (await context.accounts.store.listUsers()).find((u) => u.admin);
  if (!admin) return undefined;
  const signer = new TokenSigner({
    issuer: config.publicUrl,
    audience: new URL(config.publicUrl).host,
    ttlSeconds: 300,
    keyFile,
  });
  const { token } = await signer.sign({ sub: admin.name, access });
  return `Bearer ${token}`;
}

/** Reads a password from stdin (one line) or asks for it on the terminal without echo. */
export async function readPassword(prompt: string, fromStdin: boolean): Promise<string> {
  if (fromStdin || !process.stdin.isTTY) {
    const lines = createInterface({ input: process.stdin });
    for await (const line of lines) return line;
    throw new UsageError("no password on standard input");
  }
  process.stderr.write(prompt);
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  let password = "";
  try {
    for await (const chunk of stdin) {
      for (const char of String(chunk)) {
        if (char === "\r" || char === "\n") return password;
        if (char === "\u0003") throw new UsageError("cancelled");
        if (char === "\u007f") password = password.slice(0, -1);
        else password += char;
      }
    }
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write("\n");
  }
  return password;
}

/** Prints rows as aligned columns, or as JSON for scripts. */
export function printRows(rows: Array<Record<string, unknown>>, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  if (rows.length === 0) return;
  const keys = Object.keys(rows[0] as object);
  const cell = (v: unknown) => (v === undefined || v === null ? "-" : String(v));
  const widths = keys.map((k) => Math.max(k.length, ...rows.map((r) => cell(r[k]).length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  process.stdout.write(`${line(keys.map((k) => k.toUpperCase()))}\n`);
  for (const row of rows) process.stdout.write(`${line(keys.map((k) => cell(row[k])))}\n`);
}

/**
 * `flotilla gc`, `flotilla retention` and `flotilla quota`.
 *
 * Each asks the running instance through its admin API first and works on the data directory
 * itself only when no instance answers. Why: the running process holds what a direct run cannot
 * see or tell — its manifest cache, the uploads it is serving right now, the extensions that must
 * hear `blob.purged` and `manifest.deleted` (IPFS drops its index, federation posts deletions), and
 * the rule of one GC at a time. SQLite would let both processes write, but the instance would be
 * left with stale caches and indexes. With access control on, the CLI signs itself a short-lived
 * token with the instance's key as an administrator: whoever can read the data directory owns the
 * registry anyway.
 */

import { resolve } from "node:path";
import { type Command, Option } from "commander";
import {
  createLifecycle,
  formatBytes,
  type GcReport,
  type Lifecycle,
  type LifecycleItem,
  parseBytes,
  type QuotaUsage,
  type RetentionReport,
} from "../lifecycle/index.ts";
import { createLogger } from "../log/index.ts";
import { SqliteMetaStore } from "../meta/index.ts";
import { SqliteMirrorStore } from "../mirror/index.ts";
import { createRegistry } from "../registry/index.ts";
import { FsBlobStore } from "../storage/index.ts";
import {
  type CliContext,
  openContext,
  operatorAuthorization,
  printRows,
  UsageError,
} from "./context.ts";
import { progressBar } from "./progress.ts";

type Offline = (lifecycle: Lifecycle, context: CliContext) => Promise<unknown>;

export function registerLifecycleCommands(program: Command): void {
  const configFile = () => program.opts().config as string | undefined;
  const json = new Option("--json", "print JSON for scripts");
  const dryRun = new Option("--dry-run", "only show what would go and how much space it frees");

  program
    .command("gc")
    .description("garbage collection: unreferenced blobs, untagged manifests (if on), old uploads")
    .addOption(dryRun)
    .addOption(json)
    .action(async (o: { dryRun?: boolean; json?: boolean }) => {
      const query = `?trigger=cli${o.dryRun ? "&dryRun=true" : ""}`;
      const report = (await viaInstanceOr(configFile(), "POST", `/api/v1/admin/gc${query}`, (l) =>
        l.collect({ dryRun: o.dryRun, trigger: "cli", onProgress: progressBar() }),
      )) as GcReport;
      if (o.json) return printJson(report);
      const verb = report.dryRun ? "would remove" : "removed";
      process.stdout.write(
        `${report.dryRun ? "dry run: " : ""}${verb} ${report.manifests} manifest(s), ` +
          `${report.links} link(s), ${report.blobs} blob(s), ${report.files} unnamed file(s), ` +
          `${report.uploads} expired upload(s); ${report.dryRun ? "frees" : "freed"} ` +
          `${formatBytes(report.bytesFreed)}\n`,
      );
      if (report.kept) process.stdout.write(`kept ${report.kept} wanted again during the run\n`);
      printItems(report.items, report.truncated);
    });

  program
    .command("retention")
    .description(
      "apply the retention policies of the configuration (tags, then untagged manifests)",
    )
    .addOption(dryRun)
    .addOption(json)
    .action(async (o: { dryRun?: boolean; json?: boolean }) => {
      const query = `?trigger=cli${o.dryRun ? "&dryRun=true" : ""}`;
      const report = (await viaInstanceOr(
        configFile(),
        "POST",
        `/api/v1/admin/retention${query}`,
        (l) => l.applyRetention({ dryRun: o.dryRun, trigger: "cli", onProgress: progressBar() }),
      )) as RetentionReport;
      if (o.json) return printJson(report);
      const verb = report.dryRun ? "would delete" : "deleted";
      process.stdout.write(
        `${report.dryRun ? "dry run: " : ""}${verb} ${report.tags} tag(s) and ` +
          `${report.manifests} untagged manifest(s); the next gc reclaims their space\n`,
      );
      printItems(report.items, report.truncated);
    });

  const quota = program.command("quota").description("storage quotas per namespace");
  quota
    .command("set <namespace> <size>")
    .description("limit a namespace: bytes, or a size like 500MiB, 10GiB, 1TB")
    .addOption(json)
    .action(async (namespace: string, size: string, o: { json?: boolean }) => {
      const bytes = parseBytes(size);
      if (bytes === undefined) throw new UsageError(`"${size}" is not a size (try 10GiB)`);
      const usage = (await viaInstanceOr(
        configFile(),
        "PUT",
        `/api/v1/admin/quotas/${encodeURIComponent(namespace)}`,
        async (l) => {
          await l.quotas.set(namespace, bytes);
          return l.quotas.usage(namespace);
        },
        { bytes },
      )) as QuotaUsage;
      if (o.json) return printJson(usage);
      process.stdout.write(`quota of ${namespace}: ${describe(usage)}\n`);
    });
  quota
    .command("remove <namespace>")
    .description("lift a namespace's quota")
    .action(async (namespace: string) => {
      await viaInstanceOr(
        configFile(),
        "PUT",
        `/api/v1/admin/quotas/${encodeURIComponent(namespace)}`,
        (l) => l.quotas.set(namespace, undefined),
        { bytes: null },
      );
      process.stdout.write(`${namespace} has no quota now\n`);
    });
  quota
    .command("show [namespace]")
    .description("usage and quota of one namespace, or of every namespace")
    .addOption(json)
    .action(async (namespace: string | undefined, o: { json?: boolean }) => {
      const path = namespace ? `/api/v1/quotas/${encodeURIComponent(namespace)}` : "/api/v1/quotas";
      const result = (await viaInstanceOr(configFile(), "GET", path, async (l) =>
        namespace ? l.quotas.usage(namespace) : { quotas: await l.quotas.all() },
      )) as QuotaUsage | { quotas: QuotaUsage[] };
      const rows = "quotas" in result ? result.quotas : [result];
      if (o.json) return printJson(result);
      if (rows.length === 0) process.stdout.write("no namespace holds blobs or has a quota\n");
      printRows(
        rows.map((u) => ({
          namespace: u.namespace,
          used: formatBytes(u.used),
          quota: u.limit === undefined ? undefined : formatBytes(u.limit),
          percent: u.limit ? `${Math.round((u.used / u.limit) * 100)}%` : undefined,
        })),
        false,
      );
    });
}

function describe(u: QuotaUsage): string {
  if (u.limit === undefined) return `${formatBytes(u.used)} used, no quota`;
  return `${formatBytes(u.used)} used of ${formatBytes(u.limit)}`;
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function printItems(items: LifecycleItem[], truncated: boolean): void {
  for (const item of items) {
    const where = item.repository ? `${item.repository}${item.tag ? `:${item.tag}` : ""} ` : "";
    const size = item.size ? ` (${formatBytes(item.size)})` : "";
    process.stdout.write(`  ${item.kind.padEnd(8)} ${where}${item.digest ?? ""}${size}\n`);
  }
  if (truncated) process.stdout.write("  … (more not listed)\n");
}

/** Asks the running instance; without one, runs `offline` against the data directory. */
async function viaInstanceOr(
  configFile: string | undefined,
  method: string,
  path: string,
  offline: Offline,
  body?: unknown,
): Promise<unknown> {
  const context = openContext(configFile);
  try {
    const url = `${context.config.publicUrl}${path}`;
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    const authorization = await operatorAuthorization(context);
    if (authorization) headers.authorization = authorization;
    let res: Response | undefined;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      res = undefined; // nothing listens: no instance runs
    }
    if (res) {
      const text = await res.text();
      if (res.ok) return text ? JSON.parse(text) : null;
      throw new UsageError(
        `the instance at ${context.config.publicUrl} answered ${res.status}: ${errorMessage(text)}`,
      );
    }
    return await offline(await openLocal(context), context);
  } finally {
    context.close();
  }
}

function errorMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { errors?: Array<{ message?: string }> };
    return parsed.errors?.[0]?.message ?? text.slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}

/** The stores of the data directory, as the instance builds them (without its extensions). */
async function openLocal(context: CliContext): Promise<Lifecycle> {
  const { config } = context;
  const dataDir = resolve(config.dataDir);
  const log = createLogger({ ...config.log, level: "warn" });
  const meta = new SqliteMetaStore({ database: context.database });
  const blobs = await FsBlobStore.create({ root: dataDir });
  const registry = createRegistry(
    { blobs, meta, log },
    { maxManifestBytes: config.registry.maxManifestBytes, manifestCacheBytes: 0 },
  );
  const mirrors = new SqliteMirrorStore(context.database);
  return createLifecycle(
    {
      database: context.database,
      meta,
      blobs,
      registry,
      dataDir,
      log,
      retentionExempt: (repository) => mirrors.hasNamespace(repository.split("/")[0] ?? ""),
    },
    config,
  );
}

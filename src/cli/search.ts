/** `flotilla search` and `flotilla repo`: read the running instance's JSON API, as a browser would. */
import { type Command, Option } from "commander";
import { loadConfig } from "../config/index.ts";
import { checkName } from "../registry/index.ts";
import { printRows, UsageError } from "./context.ts";

interface ApiOptions {
  url?: string;
  creds?: string;
}

interface SearchResult {
  name: string;
  instance: string;
  description: string;
  tags: number;
  stars: number;
  lastPushAt?: number;
  platforms: string[];
  signed: boolean;
}

export function registerSearchCommands(program: Command): void {
  const json = () => new Option("--json", "print JSON for scripts");
  const url = () =>
    new Option("--url <url>", "the instance to ask (default: the configuration's public URL)");
  const creds = () =>
    new Option("--creds <user:token>", "sign in to see private repositories you may pull");

  program
    .command("search <query>")
    .description("search repositories here and on instances this one knows")
    .addOption(json())
    .addOption(url())
    .addOption(creds())
    .option("--instance <host>", "only from this instance (`local` for this one)")
    .option("--namespace <name>", "only in this namespace")
    .option("--platform <os/arch>", "only images for this platform, e.g. linux/arm64")
    .option("--signed", "only signed images")
    .option("--limit <n>", "at most this many results (1-100)", "30")
    .action(async (query: string, o: ApiOptions & Record<string, string | boolean | undefined>) => {
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100)
        throw new UsageError("--limit is a whole number from 1 to 100");
      const params = new URLSearchParams({ q: query, limit: String(limit) });
      for (const key of ["instance", "namespace", "platform"] as const) {
        const value = o[key];
        if (typeof value === "string") params.set(key, value);
      }
      if (o.signed) params.set("signed", "1");
      const body = (await apiGet(program, o, `/api/v1/search?${params}`)) as {
        results: SearchResult[];
      };
      if (o.json) {
        process.stdout.write(`${JSON.stringify(body.results, null, 2)}\n`);
        return;
      }
      if (body.results.length === 0) {
        process.stderr.write(`no repositories match "${query}"\n`);
        return;
      }
      printRows(
        body.results.map((r) => ({
          name: r.name,
          instance: r.instance,
          tags: r.tags,
          stars: r.stars,
          pushed: r.lastPushAt ? new Date(r.lastPushAt).toISOString().slice(0, 16) : undefined,
          signed: r.signed ? "yes" : "",
          description: r.description.length > 60 ? `${r.description.slice(0, 59)}…` : r.description,
        })),
        false,
      );
    });

  program
    .command("repo <name>")
    .description("a repository's tags, digests, sizes, platforms and pull commands")
    .addOption(json())
    .addOption(url())
    .addOption(creds())
    .action(async (name: string, o: ApiOptions & { json?: boolean }) => {
      const detail = (await apiGet(program, o, `/api/v1/repositories/${checkName(name)}`)) as {
        name: string;
        description: string;
        tags: Array<{
          name: string;
          digest: string;
          size: number;
          platforms: string[];
          pushedAt: number;
        }>;
        pull: { tag?: string; digest?: string; cid?: string };
      };
      if (o.json) {
        process.stdout.write(`${JSON.stringify(detail, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `${detail.name}${detail.description ? ` — ${detail.description}` : ""}\n`,
      );
      for (const pull of [detail.pull.tag, detail.pull.digest, detail.pull.cid])
        if (pull) process.stdout.write(`  docker pull ${pull}\n`);
      process.stdout.write("\n");
      printRows(
        detail.tags.map((t) => ({
          tag: t.name,
          digest: t.digest,
          size: t.size,
          platforms: t.platforms.join(",") || undefined,
          pushed: new Date(t.pushedAt).toISOString().slice(0, 16),
        })),
        false,
      );
    });
}

/** GETs a JSON API path; unreachable instances and error answers become one readable line. */
async function apiGet(program: Command, options: ApiOptions, path: string): Promise<unknown> {
  const base = (options.url ?? loadConfig(program.opts().config).publicUrl).replace(/\/+$/, "");
  let target: URL;
  try {
    target = new URL(`${base}${path}`);
  } catch {
    throw new UsageError(`not a URL: ${base}`);
  }
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.creds) {
    if (!options.creds.includes(":")) throw new UsageError("--creds is <user>:<password or token>");
    headers.Authorization = `Basic ${Buffer.from(options.creds).toString("base64")}`;
  }
  let res: Response;
  try {
    res = await fetch(target, { headers, signal: AbortSignal.timeout(30_000) });
  } catch {
    throw new UsageError(`cannot reach the instance at ${base}: is it running?`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new UsageError(
      `${base} did not answer with JSON (HTTP ${res.status}): is it a Flotilla instance with the web interface on?`,
    );
  }
  if (!res.ok) {
    const error = (body as { errors?: Array<{ message?: string }> }).errors?.[0];
    throw new UsageError(`${error?.message ?? "request failed"} (HTTP ${res.status})`);
  }
  return body;
}

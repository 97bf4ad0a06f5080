/**
 * `flotilla follow|unfollow|follows` (through the running instance's admin API, which receives
 * the Accept), `flotilla block|unblock|blocks`, `flotilla reports`, and `flotilla star|boost` for
 * operators (on the data directory; the running instance's queue worker delivers what they send).
 */
import { type Command, Option } from "commander";
import { AccessPolicy } from "../accounts/index.ts";
import { SocialError, type SocialService } from "../federation/types.ts";
import { silentLogger } from "../log/index.ts";
import { SqliteMetaStore } from "../meta/index.ts";
import { SqliteMirrorStore } from "../mirror/store.ts";
import {
  type CliContext,
  openContext,
  operatorAuthorization,
  printRows,
  UsageError,
} from "./context.ts";

export function registerFederationCommands(program: Command): void {
  const json = new Option("--json", "print JSON for scripts");
  const creds = new Option(
    "--creds <user:password>",
    "an administrator's credentials (default: FLOTILLA_ADMIN_USER / FLOTILLA_ADMIN_PASSWORD, else a token the CLI signs with the instance's key)",
  );
  const config = () => program.opts().config as string | undefined;

  program
    .command("follow <target>")
    .description("follow a remote repository (its URL) or namespace (@user@host); mirrors it")
    .addOption(creds)
    .action(async (target: string, o: { creds?: string }) => {
      const body = await adminApi(config(), o.creds, "POST", "", { target });
      const follow = (body as { follow: { label: string; state: string } }).follow;
      process.stdout.write(`following ${follow.label} (${follow.state})\n`);
    });

  program
    .command("unfollow <target>")
    .description("stop following (and mirroring) a remote repository or namespace")
    .addOption(creds)
    .action(async (target: string, o: { creds?: string }) => {
      await adminApi(config(), o.creds, "DELETE", `?target=${encodeURIComponent(target)}`);
      process.stdout.write(`unfollowed ${target}\n`);
    });

  program
    .command("follows")
    .description("what this instance follows")
    .addOption(json)
    .addOption(creds)
    .action(async (o: { json?: boolean; creds?: string }) => {
      const body = (await adminApi(config(), o.creds, "GET", "")) as {
        follows: Array<Record<string, unknown>>;
      };
      printRows(
        body.follows.map((f) => ({
          label: f.label,
          kind: f.kind,
          state: f.state,
          actor: f.actorId,
          since: f.createdAt,
        })),
        Boolean(o.json),
      );
    });

  const local = (work: (social: SocialService, context: CliContext) => Promise<void>) =>
    withSocial(config(), work);

  program
    .command("block <domain>")
    .description("stop all federation with a domain (both ways); drops deliveries waiting for it")
    .option("--reason <text>", "why, for the other administrators")
    .action((domain: string, o: { reason?: string }) =>
      local(async (social) => {
        await social.blockDomain(domain, o.reason);
        process.stdout.write(`blocked ${domain}\n`);
      }),
    );
  program
    .command("unblock <domain>")
    .description("federate with a blocked domain again")
    .action((domain: string) =>
      local(async (social) => {
        if (!(await social.unblockDomain(domain))) throw new UsageError(`${domain} is not blocked`);
        process.stdout.write(`unblocked ${domain}\n`);
      }),
    );
  program
    .command("blocks")
    .description("blocked domains")
    .addOption(json)
    .action((o: { json?: boolean }) =>
      local(async (social) =>
        printRows(
          (await social.blockedDomains()).map((b) => ({
            domain: b.domain,
            reason: b.reason,
            since: b.createdAt.toISOString(),
          })),
          Boolean(o.json),
        ),
      ),
    );

  program
    .command("reports")
    .description("reports (Flags) waiting for an administrator")
    .option("--all", "include resolved reports")
    .option("--resolve <id>", "mark a report handled")
    .addOption(json)
    .action((o: { all?: boolean; resolve?: string; json?: boolean }) =>
      local(async (social) => {
        if (o.resolve) {
          if (!(await social.resolveReport(o.resolve)))
            throw new UsageError(`no open report ${o.resolve}`);
          process.stdout.write(`resolved ${o.resolve}\n`);
          return;
        }
        const rows = await social.reports({ includeResolved: Boolean(o.all) });
        printRows(
          rows.map((r) => ({
            id: r.id,
            reporter: r.reporter,
            target: r.label,
            text: r.text,
            at: r.createdAt.toISOString(),
            resolved: r.resolvedAt?.toISOString(),
          })),
          Boolean(o.json),
        );
      }),
    );

  program
    .command("star <user> <repository>")
    .description("star a repository (a name here, or a remote repository's URL) as a local user")
    .option("--undo", "remove the star")
    .action((user: string, target: string, o: { undo?: boolean }) =>
      local(async (social) => {
        await (o.undo ? social.unstar(user, target) : social.star(user, target));
        process.stdout.write(`${o.undo ? "unstarred" : "starred"} ${target} as ${user}\n`);
      }),
    );

  program
    .command("boost <repository>")
    .description("add a repository to the curated list and announce it to followers")
    .option("--as <user>", "boost as this local user instead of the instance")
    .option("--undo", "remove the boost")
    .action((target: string, o: { as?: string; undo?: boolean }) =>
      local(async (social) => {
        const by = o.as ?? "instance";
        await (o.undo ? social.unboost(by, target) : social.boost(by, target));
        process.stdout.write(`${o.undo ? "unboosted" : "boosted"} ${target} as ${by}\n`);
      }),
    );
}

/** Federation on the data directory, without a queue worker: the running server delivers. */
async function withSocial(
  configFile: string | undefined,
  work: (social: SocialService, context: CliContext) => Promise<void>,
): Promise<void> {
  const context = openContext(configFile);
  try {
    const { config, database, accounts } = context;
    const meta = new SqliteMetaStore({ database });
    const mirrors = new SqliteMirrorStore(database);
    const policy = config.auth.enabled ? new AccessPolicy(accounts.store) : undefined;
    // Loaded here, not at the top: every `flotilla` command (serve too) imports this file.
    const { openFederation } = await import("../federation/extension.ts");
    const { social } = openFederation(
      {
        database,
        meta,
        accounts: accounts.store,
        isPublic: async (repository) =>
          !(await mirrors.hasNamespace(repository.split("/")[0] ?? "")) &&
          (policy ? await policy.isPublic(repository) : true),
        log: silentLogger(),
      },
      {
        publicUrl: config.publicUrl,
        allowPrivateAddress: config.outbound.allowPrivateAddresses,
        inboxMaxBytes: config.federation.inboxMaxBytes,
        inboxPerHostPerMinute: config.federation.inboxPerHostPerMinute,
        maxActivityAgeMs: config.federation.maxActivityAgeHours * 3600_000,
      },
    );
    await work(social, context);
  } catch (error) {
    if (error instanceof SocialError) throw new UsageError(error.message);
    throw error;
  } finally {
    context.close();
  }
}

/** Calls `/api/v1/admin/follows` on the running instance as an administrator. */
async function adminApi(
  configFile: string | undefined,
  credentials: string | undefined,
  method: string,
  suffix: string,
  body?: unknown,
): Promise<unknown> {
  const context = openContext(configFile);
  const { publicUrl, admin, auth } = context.config;
  const headers: Record<string, string> = {};
  try {
    const pair =
      credentials ?? (admin.user && admin.password ? `${admin.user}:${admin.password}` : undefined);
    const authorization = pair
      ? `Basic ${Buffer.from(pair).toString("base64")}`
      : await operatorAuthorization(context);
    if (auth.enabled && authorization) headers.Authorization = authorization;
  } finally {
    context.close();
  }
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(`${publicUrl}/api/v1/admin/follows${suffix}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new UsageError(`cannot reach the instance at ${publicUrl}: ${(error as Error).message}`);
  }
  if (res.status === 204) return {};
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try {
      message =
        (JSON.parse(text) as { errors: Array<{ message: string }> }).errors[0]?.message ?? text;
    } catch {
      // not an OCI error body
    }
    throw new UsageError(`${res.status}: ${message}`);
  }
  return JSON.parse(text) as unknown;
}

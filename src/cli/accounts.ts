/** Operator commands for users, organizations, members, tokens and visibility. */
import { type Command, Option } from "commander";
import type { Role, TokenScope, Visibility } from "../meta/index.ts";
import { checkName } from "../registry/index.ts";
import { type CliContext, openContext, printRows, readPassword } from "./context.ts";

type Run = (context: CliContext) => Promise<void>;

export function registerAccountCommands(program: Command): void {
  const run = (work: Run) => async () => {
    const context = openContext(program.opts().config);
    try {
      await work(context);
    } finally {
      context.close();
    }
  };
  const json = new Option("--json", "print JSON for scripts");
  const stdin = new Option("--password-stdin", "read the password from standard input");

  const user = program.command("user").description("manage users");
  user
    .command("add <name>")
    .description("create a user (and the namespace of the same name)")
    .option("--admin", "make the user an administrator")
    .addOption(stdin)
    .action((name: string, o: { admin?: boolean; passwordStdin?: boolean }) =>
      run(async ({ accounts }) => {
        const password = await readPassword(`password for ${name}: `, Boolean(o.passwordStdin));
        await accounts.createUser(name, password, { admin: Boolean(o.admin) });
        process.stdout.write(`created ${o.admin ? "administrator" : "user"} ${name}\n`);
      })(),
    );
  user
    .command("passwd <name>")
    .description("set a user's password")
    .addOption(stdin)
    .action((name: string, o: { passwordStdin?: boolean }) =>
      run(async ({ accounts }) => {
        await accounts.setPassword(
          name,
          await readPassword(`new password for ${name}: `, Boolean(o.passwordStdin)),
        );
        process.stdout.write(`password of ${name} changed\n`);
      })(),
    );
  user
    .command("admin <name> <on|off>")
    .description("grant or take away administrator rights")
    .action((name: string, flag: string) =>
      run(async ({ accounts }) => {
        await accounts.setAdmin(name, parseChoice(flag, ["on", "off"], "on or off") === "on");
        process.stdout.write(
          `${name} is ${flag === "on" ? "now" : "no longer"} an administrator\n`,
        );
      })(),
    );
  user
    .command("remove <name>")
    .description("delete a user, their memberships and tokens")
    .action((name: string) =>
      run(async ({ accounts }) => {
        if (!(await accounts.store.getUser(name))) throw new Error(`no user "${name}"`);
        await accounts.removeNamespace(name);
        process.stdout.write(`removed user ${name}\n`);
      })(),
    );
  user
    .command("list")
    .description("list users")
    .addOption(json)
    .action((o: { json?: boolean }) =>
      run(async ({ accounts }) => {
        const users = await accounts.store.listUsers();
        printRows(
          users.map((u) => ({ name: u.name, admin: u.admin, created: iso(u.createdAt) })),
          Boolean(o.json),
        );
      })(),
    );

  const org = program.command("org").description("manage organizations and their members");
  org
    .command("add <name>")
    .description("create an organization")
    .option("--owner <user>", "its first owner")
    .action((name: string, o: { owner?: string }) =>
      run(async ({ accounts }) => {
        await accounts.createOrg(name, o.owner);
        process.stdout.write(`created organization ${name}\n`);
      })(),
    );
  org
    .command("remove <name>")
    .description("delete an organization")
    .action((name: string) =>
      run(async ({ accounts }) => {
        if ((await accounts.store.getNamespace(name))?.kind !== "org")
          throw new Error(`no organization "${name}"`);
        await accounts.removeNamespace(name);
        process.stdout.write(`removed organization ${name}\n`);
      })(),
    );
  org
    .command("member <org> <user> <role>")
    .description("add a member or change their role: owner, maintainer, reader; or `remove`")
    .action((name: string, member: string, role: string) =>
      run(async ({ accounts }) => {
        if (role === "remove") {
          await accounts.removeMember(name, member);
          process.stdout.write(`${member} left ${name}\n`);
          return;
        }
        const chosen = parseChoice(
          role,
          ["owner", "maintainer", "reader"],
          "owner, maintainer, reader or remove",
        );
        await accounts.setMember(name, member, chosen as Role);
        process.stdout.write(`${member} is ${chosen} of ${name}\n`);
      })(),
    );
  org
    .command("members <org>")
    .description("list an organization's members")
    .addOption(json)
    .action((name: string, o: { json?: boolean }) =>
      run(async ({ accounts }) =>
        printRows(await accounts.store.listMembers(name), Boolean(o.json)),
      )(),
    );

  const token = program.command("token").description("manage personal access tokens");
  token
    .command("create <user>")
    .description("create a token; it is printed once")
    .requiredOption("--name <name>", "what the token is for")
    .addOption(
      new Option("--scope <scope>", "what it may do")
        .choices(["pull", "push", "admin"])
        .default("push"),
    )
    .option("--expires-days <days>", "lifetime in days (default: no expiry)")
    .addOption(json)
    .action(
      (
        name: string,
        o: { name: string; scope: TokenScope; expiresDays?: string; json?: boolean },
      ) =>
        run(async ({ accounts }) => {
          const days = o.expiresDays === undefined ? undefined : Number(o.expiresDays);
          if (days !== undefined && !(days > 0))
            throw new Error("--expires-days needs a positive number");
          const created = await accounts.createToken(name, {
            name: o.name,
            scope: o.scope,
            expiresInDays: days,
          });
          if (o.json)
            printRows(
              [{ id: created.id, token: created.value, expires: iso(created.expiresAt) }],
              true,
            );
          else process.stdout.write(`${created.value}\n`);
        })(),
    );
  token
    .command("list <user>")
    .description("list a user's tokens (never their secrets)")
    .addOption(json)
    .action((name: string, o: { json?: boolean }) =>
      run(async ({ accounts }) => {
        const tokens = await accounts.listTokens(name);
        printRows(
          tokens.map((t) => ({
            id: t.id,
            name: t.name,
            scope: t.scope,
            created: iso(t.createdAt),
            expires: iso(t.expiresAt),
            lastUsed: iso(t.lastUsedAt),
            revoked: iso(t.revokedAt),
          })),
          Boolean(o.json),
        );
      })(),
    );
  token
    .command("revoke <id>")
    .description("revoke a token at once")
    .action((id: string) =>
      run(async ({ accounts }) => {
        await accounts.revokeToken(id);
        process.stdout.write(`revoked token ${id}\n`);
      })(),
    );

  program
    .command("visibility <name> <visibility>")
    .description(
      "set a repository (ns/repo) or a namespace default (ns) to public or private; `inherit` for a repository",
    )
    .action((name: string, value: string) =>
      run(async ({ accounts }) => {
        checkName(name);
        const choice = parseChoice(
          value,
          ["public", "private", "inherit"],
          "public, private or inherit",
        );
        if (name.includes("/")) {
          await accounts.store.setRepositoryVisibility(
            name,
            choice === "inherit" ? null : (choice as Visibility),
          );
        } else {
          if (choice === "inherit") throw new Error("a namespace default is public or private");
          await accounts.setNamespaceVisibility(name, choice as Visibility);
        }
        process.stdout.write(`${name} is ${choice}\n`);
      })(),
    );
}

function parseChoice(value: string, choices: string[], expected: string): string {
  if (!choices.includes(value)) throw new Error(`expected ${expected}, got "${value}"`);
  return value;
}

function iso(time: number | undefined): string | undefined {
  return time === undefined
    ? undefined
    : new Date(time).toISOString().slice(0, 19).replace("T", " ");
}

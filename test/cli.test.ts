/** The operator's CLI: each command's success path and its readable failures (exit code 1, no stack). */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { flotilla } from "./helpers/cli.ts";

describe("flotilla CLI", () => {
  let dataDir: string;
  const cli = (args: string[], input?: string) => flotilla(dataDir, args, input);
  const fails = async (args: string[], message: RegExp, input?: string) => {
    const result = await cli(args, input);
    assert.equal(result.code, 1, `${args.join(" ")}: ${result.stdout}${result.stderr}`);
    assert.match(result.stderr, message);
    assert.doesNotMatch(result.stderr, /\n\s+at .*:\d+:\d+/, "no stack trace");
  };

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "flotilla-cli-"));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("adds users and lists them, refusing duplicates, bad names and short passwords", async () => {
    assert.equal(
      (await cli(["user", "add", "root", "--admin", "--password-stdin"], "root-password\n")).code,
      0,
    );
    assert.equal(
      (await cli(["user", "add", "alice", "--password-stdin"], "alice-password\n")).code,
      0,
    );
    await fails(["user", "add", "alice", "--password-stdin"], /taken/, "another-password\n");
    await fails(["user", "add", "Alice", "--password-stdin"], /lower-case/, "another-password\n");
    await fails(["user", "add", "carol", "--password-stdin"], /at least 8/, "short\n");
    const list = await cli(["user", "list", "--json"]);
    assert.deepEqual(
      (JSON.parse(list.stdout) as Array<{ name: string; admin: boolean }>).map((u) => [
        u.name,
        u.admin,
      ]),
      [
        ["alice", false],
        ["root", true],
      ],
    );
    assert.match((await cli(["user", "list"])).stdout, /^NAME\s+ADMIN\s+CREATED\n/);
  });

  it("changes passwords and administrator rights, and removes users", async () => {
    assert.equal(
      (await cli(["user", "passwd", "alice", "--password-stdin"], "new-password-1\n")).code,
      0,
    );
    await fails(
      ["user", "passwd", "nobody", "--password-stdin"],
      /no user "nobody"/,
      "new-password-1\n",
    );
    assert.equal((await cli(["user", "admin", "alice", "on"])).code, 0);
    await fails(["user", "admin", "alice", "maybe"], /expected on or off/);
    assert.equal((await cli(["user", "admin", "alice", "off"])).code, 0);
    assert.equal(
      (await cli(["user", "add", "temp", "--password-stdin"], "temp-password\n")).code,
      0,
    );
    assert.equal((await cli(["user", "remove", "temp"])).code, 0);
    await fails(["user", "remove", "temp"], /no user "temp"/);
  });

  it("manages organizations, members and roles", async () => {
    assert.equal((await cli(["org", "add", "team", "--owner", "alice"])).code, 0);
    await fails(["org", "add", "team"], /taken/);
    await fails(["org", "add", "other", "--owner", "ghost"], /no user "ghost"/);
    assert.equal((await cli(["user", "add", "bob", "--password-stdin"], "bob-password\n")).code, 0);
    assert.equal((await cli(["org", "member", "team", "bob", "reader"])).code, 0);
    await fails(
      ["org", "member", "team", "bob", "emperor"],
      /expected owner, maintainer, reader or remove/,
    );
    await fails(["org", "member", "alice", "bob", "reader"], /no organization "alice"/);
    const members = JSON.parse((await cli(["org", "members", "team", "--json"])).stdout);
    assert.deepEqual(members, [
      { user: "alice", role: "owner" },
      { user: "bob", role: "reader" },
    ]);
    assert.equal((await cli(["org", "member", "team", "bob", "remove"])).code, 0);
    await fails(["org", "member", "team", "bob", "remove"], /not a member/);
    await fails(["org", "remove", "alice"], /no organization "alice"/);
  });

  it("creates, lists and revokes tokens without ever showing a secret twice", async () => {
    const created = await cli([
      "token",
      "create",
      "alice",
      "--name",
      "ci",
      "--scope",
      "pull",
      "--expires-days",
      "30",
    ]);
    assert.equal(created.code, 0, created.stderr);
    const secret = created.stdout.trim();
    assert.match(secret, /^flt_[A-Za-z0-9_-]{12}_[A-Za-z0-9_-]{32}$/);
    const listed = JSON.parse((await cli(["token", "list", "alice", "--json"])).stdout) as Array<
      Record<string, unknown>
    >;
    assert.equal(listed.length, 1);
    assert.equal(listed[0]?.scope, "pull");
    assert.ok(listed[0]?.expires);
    assert.equal(JSON.stringify(listed).includes(secret.slice(-32)), false);
    await fails(
      ["token", "create", "alice", "--name", "x", "--scope", "root"],
      /Allowed choices|invalid/i,
    );
    await fails(["token", "create", "ghost", "--name", "x"], /no user "ghost"/);
    await fails(["token", "create", "alice", "--name", "x", "--expires-days", "-3"], /positive/);
    assert.equal((await cli(["token", "revoke", String(listed[0]?.id)])).code, 0);
    await fails(["token", "revoke", "nonexistent"], /no token/);
  });

  it("sets visibility of repositories and namespace defaults", async () => {
    assert.equal((await cli(["visibility", "team/app", "private"])).code, 0);
    assert.equal((await cli(["visibility", "team/app", "inherit"])).code, 0);
    assert.equal((await cli(["visibility", "team", "private"])).code, 0);
    await fails(["visibility", "team", "inherit"], /public or private/);
    await fails(["visibility", "Team/App", "public"], /invalid repository name/);
    await fails(["visibility", "nobody", "public"], /no user or organization/);
  });

  it("prints configuration with the password hidden, and every variable", async () => {
    const keys = await cli(["config", "--keys"]);
    assert.match(keys.stdout, /auth\.enabled\s+FLOTILLA_AUTH_ENABLED/);
    assert.match(keys.stdout, /port\s+FLOTILLA_PORT/);
    const shown = await flotilla(dataDir, ["config"]);
    assert.equal(JSON.parse(shown.stdout).dataDir, dataDir);
    const help = await cli(["--help"]);
    assert.match(help.stdout, /serve/);
    assert.match(help.stdout, /token/);
  });
});

/** The `flotilla` command: serve, and the operator's tools. */
import { resolve } from "node:path";
import { Command } from "commander";
import { AccountError } from "./accounts/index.ts";
import { registerAccountCommands } from "./cli/accounts.ts";
import { UsageError } from "./cli/context.ts";
import { registerFederationCommands } from "./cli/federation.ts";
import { registerIpfsCommands } from "./cli/ipfs.ts";
import { registerLifecycleCommands } from "./cli/lifecycle.ts";
import { registerMirrorCommands } from "./cli/mirror.ts";
import { registerSearchCommands } from "./cli/search.ts";
import { welcomeText } from "./cli/welcome.ts";
import { ConfigError, configKeys, loadConfig } from "./config/index.ts";
import { startInstance } from "./instance.ts";
import { createLogger } from "./log/index.ts";
import { OciError } from "./registry/index.ts";
import { tuneHeap } from "./runtime/heap.ts";

const program = new Command()
  .name("flotilla")
  .description("A decentralized, federated OCI container registry")
  .option("-c, --config <file>", "YAML configuration file (default: ./flotilla.yaml if present)")
  .showHelpAfterError();

program
  .command("serve")
  .description("start the registry")
  .action(async () => {
    tuneHeap();
    const config = loadConfig(program.opts().config);
    const log = createLogger(config.log);
    const instance = await startInstance(config, log);
    process.stderr.write(
      welcomeText(config, {
        firstStart: instance.firstStart,
        authEnabled: config.auth.enabled,
        admins: await instance.accounts.store.countAdmins(),
        dataDir: resolve(config.dataDir),
        port: instance.server.port,
      }),
    );
    log.info(
      { category: "server", port: instance.server.port, url: config.publicUrl },
      "listening",
    );
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ category: "server", signal }, "shutting down");
      try {
        await instance.stop();
        log.info({ category: "server" }, "stopped cleanly");
        process.exit(0);
      } catch (error) {
        log.error({ category: "server", err: error }, "unclean shutdown");
        process.exit(1);
      }
    };
    process.on("SIGTERM", () => void stop("SIGTERM"));
    process.on("SIGINT", () => void stop("SIGINT"));
  });

program
  .command("config")
  .description("print the effective configuration and every environment variable")
  .option("--keys", "list settable keys and their environment variables only")
  .action((options: { keys?: boolean }) => {
    if (options.keys) {
      for (const key of configKeys()) process.stdout.write(`${key.key.padEnd(40)} ${key.env}\n`);
      return;
    }
    const config = loadConfig(program.opts().config);
    const shown = {
      ...config,
      admin: { ...config.admin, password: config.admin.password ? "[set]" : undefined },
    };
    process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
  });

registerAccountCommands(program);
registerIpfsCommands(program);
registerFederationCommands(program);
registerLifecycleCommands(program);
registerSearchCommands(program);
registerMirrorCommands(program);

try {
  await program.parseAsync();
} catch (error) {
  // Mistakes at the terminal get one readable line and exit code 1, never a stack trace.
  if (
    error instanceof UsageError ||
    error instanceof AccountError ||
    error instanceof OciError ||
    (error instanceof Error && error.constructor === Error)
  ) {
    process.stderr.write(`flotilla: ${error.message}\n`);
    process.exit(1);
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`flotilla: ${error.message}\n`);
    process.exit(2);
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE" || code === "EACCES") {
    process.stderr.write(`flotilla: cannot listen: ${(error as Error).message}\n`);
    process.exit(2);
  }
  throw error;
}

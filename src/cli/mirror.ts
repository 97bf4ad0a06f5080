/**
 * `flotilla mirrors` (status) and `flotilla mirror track|untrack`: keep a repository of another
 * registry (a Flotilla instance, or any OCI registry such as Distribution) here, read-only, under
 * `<remote-host>/<name>`. The commands work on the data directory, also while the server runs; a
 * running server serves what they stored and fetches blobs from the origin on the first pull.
 */
import { resolve } from "node:path";
import { type Command, Option } from "commander";
import { createLogger } from "../log/index.ts";
import { SqliteMetaStore } from "../meta/index.ts";
import {
  createMirror,
  plainRegistryActor,
  type RegistryMirror,
  SqliteMirrorStore,
} from "../mirror/index.ts";
import { createGuardedFetcher } from "../net/index.ts";
import { createRegistry } from "../registry/index.ts";
import { FsBlobStore } from "../storage/index.ts";
import { type CliContext, openContext, printRows, UsageError } from "./context.ts";

export function registerMirrorCommands(program: Command): void {
  const json = new Option("--json", "print JSON for scripts");
  const configFile = () => program.opts().config as string | undefined;

  program
    .command("mirrors")
    .description("repositories mirrored here: tags, last claim, last error")
    .addOption(json)
    .action(async (o: { json?: boolean }) => {
      const context = openContext(configFile());
      try {
        const list = new SqliteMirrorStore(context.database).list();
        printRows(
          list.map((m) => ({
            name: m.localName,
            origin: `${m.registryUrl}/${m.name}`,
            tags: m.tags,
            lastClaim: m.lastClaimAt?.toISOString(),
            lastError: m.lastError,
            ...(o.json ? { actorId: m.actorId, trackedAt: m.trackedAt.toISOString() } : {}),
          })),
          Boolean(o.json),
        );
      } finally {
        context.close();
      }
    });

  const mirror = program.command("mirror").description("mirror repositories of other registries");

  mirror
    .command("track")
    .description("mirror a repository of another registry here, read-only, and sync its tags")
    .requiredOption("--registry-url <url>", "the origin's registry, e.g. https://registry.example")
    .requiredOption("--name <name>", "the repository on the origin, e.g. alice/app")
    .option("--actor <id>", "its ActivityPub actor, when the origin is a Flotilla instance")
    .addOption(json)
    .action(async (o: { registryUrl: string; name: string; actor?: string; json?: boolean }) => {
      await withMirror(configFile(), async (service) => {
        const actorId = o.actor ?? plainRegistryActor(o.registryUrl, o.name);
        const result = await service.track({ actorId, registryUrl: o.registryUrl, name: o.name });
        await service.idle();
        if (o.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        if (!result.ok) throw new UsageError(result.reason);
        if (!o.json) {
          process.stdout.write(`mirroring ${result.localName}: ${result.tags ?? 0} tag(s)\n`);
          for (const problem of result.problems ?? [])
            process.stderr.write(`  not mirrored: ${problem}\n`);
        }
      });
    });

  mirror
    .command("untrack <name>")
    .description("stop mirroring (by local name or actor id); its tags go, blobs at the next GC")
    .action(async (name: string) => {
      await withMirror(configFile(), async (service) => {
        const found = (await service.list()).find(
          (m) => m.localName === name || m.actorId === name,
        );
        if (!found) throw new UsageError(`no mirror ${name}`);
        await service.untrack(found.actorId);
        process.stdout.write(`no longer mirroring ${found.localName}\n`);
      });
    });
}

/** The mirror on the data directory's stores, as the server builds it (without IPFS). */
async function withMirror(
  configFile: string | undefined,
  work: (mirror: RegistryMirror) => Promise<void>,
): Promise<void> {
  const context: CliContext = openContext(configFile);
  const { config, database } = context;
  try {
    const log = createLogger({ level: "warn", format: config.log.format }, process.stderr);
    const meta = new SqliteMetaStore({ database });
    const blobs = await FsBlobStore.create({ root: resolve(config.dataDir) });
    const registry = createRegistry(
      { blobs, meta, log },
      { maxManifestBytes: config.registry.maxManifestBytes, manifestCacheBytes: 0 },
    );
    const service = createMirror(
      {
        store: new SqliteMirrorStore(database),
        fetcher: createGuardedFetcher(
          {},
          {
            allowPrivateAddresses: config.outbound.allowPrivateAddresses,
            timeoutMs: config.outbound.timeoutSeconds * 1000,
            maxDocumentBytes: config.outbound.maxDocumentBytes,
          },
        ),
        meta,
        registry,
        namespaceTaken: async (name) =>
          (await context.accounts.store.getNamespace(name)) !== undefined,
        log,
      },
      { maxManifestBytes: config.registry.maxManifestBytes, ...config.mirror },
    );
    registry.blobs.addSource(service.blobSource());
    try {
      await work(service);
    } finally {
      await blobs.close();
    }
  } finally {
    context.close();
  }
}

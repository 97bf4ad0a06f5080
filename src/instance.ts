/** The composition root: the one place that picks concrete stores and wires the layers. */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { AccessPolicy, AccountService } from "./accounts/index.ts";
import type { Config } from "./config/index.ts";
import {
  clientAddressResolver,
  createApp,
  listen,
  type RunningServer,
  TokenSigner,
} from "./http/index.ts";
import type { IpfsExtension } from "./ipfs/index.ts";
import type { Logger } from "./log/index.ts";
import { SqliteAccountStore, SqliteDatabase, SqliteMetaStore } from "./meta/index.ts";
import { createRegistry, type Registry } from "./registry/index.ts";
import { FsBlobStore } from "./storage/index.ts";

export interface Instance {
  config: Config;
  registry: Registry;
  server: RunningServer;
  /** True when this start created the data directory's database. */
  firstStart: boolean;
  accounts: AccountService;
  ipfs?: IpfsExtension;
  /** True when this start created the configured administrator. */
  adminCreated: boolean;
  stop(): Promise<void>;
}

export async function startInstance(config: Config, log: Logger): Promise<Instance> {
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true });
  const dbPath = join(dataDir, "meta.db");
  const firstStart = !existsSync(dbPath);
  const database = new SqliteDatabase(dbPath);
  const meta = new SqliteMetaStore({ database });
  const accounts = new AccountService(new SqliteAccountStore(database), {
    refreshTokenDays: config.auth.refreshTokenDays,
  });
  let adminCreated = false;
  if (config.admin.user && config.admin.password) {
    adminCreated = await accounts.ensureAdmin(config.admin.user, config.admin.password);
    if (adminCreated)
      log.info({ category: "accounts", user: config.admin.user }, "administrator created");
  }
  const blobs = await FsBlobStore.create({ root: dataDir });
  const registry = createRegistry(
    { blobs, meta, log },
    {
      maxManifestBytes: config.registry.maxManifestBytes,
      manifestCacheBytes: config.registry.manifestCacheMegabytes * 1024 * 1024,
    },
  );
  const publicUrl = new URL(config.publicUrl);
  const auth = config.auth.enabled
    ? {
        signer: new TokenSigner({
          issuer: config.publicUrl,
          audience: publicUrl.host,
          ttlSeconds: config.auth.tokenTtlSeconds,
          keyFile: config.auth.keyFile ?? join(dataDir, "keys", "token-signing.pem"),
        }),
        accounts,
        policy: new AccessPolicy(accounts.store),
        challenge: { realm: `${config.publicUrl}/token`, service: publicUrl.host },
      }
    : undefined;
  // Without access control everything is public; with it, what anonymous callers may pull.
  const isPublic = auth
    ? (repository: string) => auth.policy.isPublic(repository)
    : async () => true;
  // Loaded only when on: Helia and libp2p weigh about 60 MB of memory before doing anything.
  const ipfsModule = config.ipfs.enabled ? await import("./ipfs/index.ts") : undefined;
  const ipfs = ipfsModule
    ? await ipfsModule.startIpfs(
        { blobs, database, events: registry.events, log, isPublic },
        {
          dataDir,
          peers: config.ipfs.peers,
          listen: config.ipfs.listen,
          publicNetwork: config.ipfs.publicNetwork,
        },
      )
    : undefined;
  const content =
    ipfs &&
    ipfsModule &&
    new ipfsModule.CidContent({
      ipfs,
      blobs,
      uploads: registry.uploads,
      registryBlobs: registry.blobs,
      meta,
      log: log.child({ category: "ipfs.content" }),
    });
  if (content) registry.blobs.restoreWith((...args) => content.restore(...args));
  const app = createApp(
    {
      registry,
      log,
      ipfs: ipfs && content && { extension: ipfs, content },
    },
    { clientAddress: clientAddressResolver(config.server.trustProxy), auth },
  );
  const server = await listen(app, {
    port: config.port,
    host: config.server.host,
    tls: config.server.tls,
    headersTimeoutSeconds: config.server.headersTimeoutSeconds,
    idleTimeoutSeconds: config.server.idleTimeoutSeconds,
  });

  const expiryMs = config.registry.uploadExpiryHours * 3600_000;
  const purge = async () => {
    const removed = await registry.uploads.purgeStale(Date.now() - expiryMs);
    if (removed) log.info({ category: "registry.uploads", removed }, "expired uploads removed");
  };
  await purge();
  const purgeTimer = setInterval(
    () => purge().catch((err) => log.error({ err }, "upload purge failed")),
    3600_000,
  );
  purgeTimer.unref();

  return {
    config,
    registry,
    server,
    firstStart,
    accounts,
    ipfs,
    adminCreated,
    async stop() {
      clearInterval(purgeTimer);
      await server.close(config.server.shutdownTimeoutSeconds * 1000);
      await ipfs?.stop();
      await blobs.close();
      await meta.close();
      database.close();
    },
  };
}

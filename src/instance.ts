/** The composition root: the one place that picks concrete stores and wires the layers. */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { AccessPolicy, AccountService } from "./accounts/index.ts";
import type { Config } from "./config/index.ts";
import type { FederationExtension } from "./federation/index.ts";
import {
  clientAddressResolver,
  createApp,
  listen,
  type RunningServer,
  TokenSigner,
} from "./http/index.ts";
import type { IpfsExtension } from "./ipfs/index.ts";
import { createLifecycle } from "./lifecycle/index.ts";
import type { Logger } from "./log/index.ts";
import { SqliteAccountStore, SqliteDatabase, SqliteMetaStore } from "./meta/index.ts";
import {
  createMirror,
  ipfsManifestFetcher,
  type RegistryMirror,
  SqliteMirrorStore,
} from "./mirror/index.ts";
import { createGuardedFetcher, type GuardedFetcher } from "./net/index.ts";
import { createRegistry, type Registry } from "./registry/index.ts";
import { FsBlobStore } from "./storage/index.ts";
import { createWeb } from "./web/index.ts";

export interface Instance {
  config: Config;
  registry: Registry;
  server: RunningServer;
  /** True when this start created the data directory's database. */
  firstStart: boolean;
  accounts: AccountService;
  ipfs?: IpfsExtension;
  federation?: FederationExtension;
  /** Mirrored repositories; federation calls it when a followed repository posts. */
  mirror: RegistryMirror;
  /** The guarded fetcher every outbound fetch of the instance's own goes through. */
  outbound: GuardedFetcher;
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
  const mirrorStore = new SqliteMirrorStore(database);
  const isMirroredHost = async (namespace: string) => mirrorStore.hasNamespace(namespace);
  const accounts = new AccountService(new SqliteAccountStore(database), {
    refreshTokenDays: config.auth.refreshTokenDays,
    isMirroredHost,
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
        policy: new AccessPolicy(accounts.store, { isMirrored: isMirroredHost }),
        challenge: { realm: `${config.publicUrl}/token`, service: publicUrl.host },
      }
    : undefined;
  // Without access control everything is public; with it, what anonymous callers may pull.
  const isPublic = auth
    ? (repository: string) => auth.policy.isPublic(repository)
    : async () => true;
  // Loaded only when on: Helia and libp2p weigh about 60 MB of memory before doing anything.
  // (lean-deps first: it keeps libp2p's unused defaults out of the heap, see there.)
  const ipfsModule = config.ipfs.enabled
    ? await import("./ipfs/lean-deps.ts").then(() => import("./ipfs/index.ts"))
    : undefined;
  const ipfs = ipfsModule
    ? await ipfsModule.startIpfs(
        { blobs, database, events: registry.events, log, isPublic },
        {
          dataDir,
          peers: config.ipfs.peers,
          listen: config.ipfs.listen,
          publicNetwork: config.ipfs.publicNetwork,
          gatewayUrl: config.publicUrl,
          outbound: {
            allowPrivateAddresses: config.outbound.allowPrivateAddresses,
            timeoutMs: config.outbound.timeoutSeconds * 1000,
          },
        },
      )
    : undefined;
  const content =
    ipfs &&
    ipfsModule &&
    new ipfsModule.CidContent({
      ipfs,
      blobs,
      registryBlobs: registry.blobs,
      meta,
      log: log.child({ category: "ipfs.content" }),
    });
  if (content) registry.blobs.addSource(content.source);
  const outbound = createGuardedFetcher(
    {},
    {
      allowPrivateAddresses: config.outbound.allowPrivateAddresses,
      timeoutMs: config.outbound.timeoutSeconds * 1000,
      maxDocumentBytes: config.outbound.maxDocumentBytes,
    },
  );
  const mirror = createMirror(
    {
      store: mirrorStore,
      fetcher: outbound,
      meta,
      registry,
      namespaceTaken: async (name) => (await accounts.store.getNamespace(name)) !== undefined,
      fetchByCid: ipfs && ipfsManifestFetcher(ipfs.node),
      log,
    },
    { maxManifestBytes: config.registry.maxManifestBytes, ...config.mirror },
  );
  // After IPFS: a mirrored blob comes from peers first, from its origin second.
  registry.blobs.addSource(mirror.blobSource());
  // Loaded only when on, like IPFS. Mirrored repositories are the origin's to publish, never ours.
  const federation = config.federation.enabled
    ? await (await import("./federation/index.ts")).startFederation(
        {
          database,
          registry,
          meta,
          accounts: accounts.store,
          isPublic: async (repository) =>
            !(await mirror.isMirroredRepository(repository)) && (await isPublic(repository)),
          mirror,
          cidOf: ipfs && (async (digest) => (await ipfs.index.rootOf(digest))?.toString()),
          fetcher: outbound,
          log,
        },
        {
          publicUrl: config.publicUrl,
          allowPrivateAddress: config.outbound.allowPrivateAddresses,
          inboxMaxBytes: config.federation.inboxMaxBytes,
          inboxPerHostPerMinute: config.federation.inboxPerHostPerMinute,
          maxActivityAgeMs: config.federation.maxActivityAgeHours * 3600_000,
        },
      )
    : undefined;
  const web = config.web.enabled
    ? createWeb(
        {
          registry,
          accounts,
          policy: auth?.policy,
          database,
          log: log.child({ category: "web" }),
          clientAddress: clientAddressResolver(config.server.trustProxy),
          cidOf: ipfs && (async (digest) => (await ipfs.index.rootOf(digest))?.toString()),
          social: federation?.social,
          mirrors: mirror,
          // Called on requests only, after the lifecycle below exists.
          lifecycleRuns: (limit) => lifecycle.runs(limit),
        },
        {
          publicUrl: config.publicUrl,
          keyFile: join(dataDir, "keys", "web-session.key"),
          name: config.web.name,
          description: config.web.description,
          sessionHours: config.web.sessionHours,
        },
      )
    : undefined;
  const lifecycle = createLifecycle(
    {
      database,
      meta,
      blobs,
      registry,
      dataDir,
      log,
      retentionExempt: (repository) => mirrorStore.hasNamespace(repository.split("/")[0] ?? ""),
    },
    config,
  );
  const app = createApp(
    {
      registry,
      log,
      lifecycle,
      ipfs: ipfs && content && { extension: ipfs, content },
      web: web?.services,
      mirror,
      federation,
    },
    { clientAddress: clientAddressResolver(config.server.trustProxy), auth, limits: config.limits },
  );
  // Before listening: files a killed GC run left aside go back (or away) before anyone asks for
  // them; then the schedule starts (gc.intervalHours).
  await lifecycle.start();
  const server = await listen(app, {
    port: config.port,
    host: config.server.host,
    tls: config.server.tls,
    headersTimeoutSeconds: config.server.headersTimeoutSeconds,
    idleTimeoutSeconds: config.server.idleTimeoutSeconds,
    limits: config.limits,
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
    mirror,
    federation,
    outbound,
    adminCreated,
    async stop() {
      clearInterval(purgeTimer);
      lifecycle.stop();
      web?.stop();
      await server.close(config.server.shutdownTimeoutSeconds * 1000);
      await federation?.stop();
      await mirror.stop();
      await ipfs?.stop();
      await blobs.close();
      await meta.close();
      database.close();
    },
  };
}

/** The configuration schema: one section per subsystem; every key also has an environment variable. */
import { z } from "zod";

const seconds = (fallback: number) => z.coerce.number().nonnegative().default(fallback);

export const configSchema = z.strictObject({
  /** HTTP port for the registry API, UI, ActivityPub and gateway (FLOTILLA_PORT). */
  port: z.coerce.number().int().min(0).max(65535).default(5000),
  /** Where blobs, the database and IPFS state live (FLOTILLA_DATA_DIR). */
  dataDir: z.string().min(1).default("./data"),
  /** The URL clients and other servers use to reach this instance (FLOTILLA_PUBLIC_URL). */
  publicUrl: z.url({ protocol: /^https?$/ }).optional(),
  server: z
    .strictObject({
      /** Listen address. */
      host: z.string().min(1).default("0.0.0.0"),
      tls: z
        .strictObject({
          cert: z.string().min(1).optional(),
          key: z.string().min(1).optional(),
        })
        .prefault({})
        .refine((tls) => Boolean(tls.cert) === Boolean(tls.key), {
          message: "cert and key must be set together",
        }),
      /** Proxies whose X-Forwarded-* headers are believed: addresses, or true for any. */
      trustProxy: z.union([z.boolean(), z.array(z.string().min(1))]).default(false),
      headersTimeoutSeconds: seconds(30),
      /** A connection that sends or receives nothing this long is closed (slow clients). */
      idleTimeoutSeconds: seconds(120),
      shutdownTimeoutSeconds: seconds(30),
    })
    .prefault({}),
  registry: z
    .strictObject({
      maxManifestBytes: z.coerce
        .number()
        .int()
        .positive()
        .default(4 * 1024 * 1024),
      manifestCacheMegabytes: z.coerce.number().nonnegative().default(64),
      /** Uploads untouched this long are removed. */
      uploadExpiryHours: z.coerce.number().positive().default(24),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
      format: z.enum(["json", "pretty"]).default("json"),
    })
    .prefault({}),
  auth: z
    .strictObject({
      /** Docker token authentication; off means anyone who reaches the port may push and delete. */
      enabled: z.boolean().default(true),
      tokenTtlSeconds: z.coerce.number().int().min(30).max(86_400).default(300),
      refreshTokenDays: z.coerce.number().positive().default(30),
      /** PEM file of the token signing key (Ed25519); default `<dataDir>/keys/token-signing.pem`. */
      keyFile: z.string().min(1).optional(),
    })
    .prefault({}),
  admin: z
    .strictObject({
      user: z.string().min(1).optional(),
      password: z.string().min(1).optional(),
    })
    .default({}),
  ipfs: z
    .strictObject({
      /** The embedded IPFS node: every blob is also an IPFS object, shared with peers. */
      enabled: z.boolean().default(true),
      /** Multiaddrs of IPFS peers to connect to (FLOTILLA_PEERS). */
      peers: z.array(z.string().min(1)).default([]),
      /** libp2p listen multiaddrs; default every IPv4 interface on a free TCP port. */
      listen: z.array(z.string().min(1)).default([]),
      /** Join the public IPFS network (bootstrap peers, DHT). Off: only configured peers. */
      publicNetwork: z.boolean().default(false),
    })
    .prefault({}),
  limits: z
    .strictObject({
      /** Largest request head (request line and headers); bigger ones get 431. */
      maxHeaderBytes: z.coerce
        .number()
        .int()
        .min(1024)
        .default(16 * 1024),
      /** Largest body outside the blob API (token forms, JSON API); bigger ones get 413. */
      maxApiBodyBytes: z.coerce
        .number()
        .int()
        .positive()
        .default(1024 * 1024),
      /** Upload requests one client address may run at once; more get 429 with Retry-After. */
      maxConcurrentUploadsPerClient: z.coerce.number().int().positive().default(64),
      /** A request body must bring slowBodyMinBytes every slowBodySeconds or is cut (0: off). */
      slowBodySeconds: seconds(30),
      slowBodyMinBytes: z.coerce.number().int().nonnegative().default(1024),
    })
    .prefault({}),
  federation: z
    .strictObject({
      /** ActivityPub: actors, follows, posts on push, stars, boosts, reports, mirroring. */
      enabled: z.boolean().default(true),
      /** Largest activity the inbox accepts; bigger ones get 413 before any parsing. */
      inboxMaxBytes: z.coerce
        .number()
        .int()
        .positive()
        .default(256 * 1024),
      /** Inbox deliveries one remote host may make per minute; more get 429. */
      inboxPerHostPerMinute: z.coerce.number().int().positive().default(600),
      /** Activities published longer ago than this are refused as replays. */
      maxActivityAgeHours: z.coerce.number().positive().default(48),
    })
    .prefault({}),
  mirror: z
    .strictObject({
      /** Fetch a mirrored image's blobs as soon as its manifest arrives, not on the first pull. */
      eagerBlobs: z.boolean().default(false),
      /** When a repository starts being mirrored, list the origin's tags and fetch their manifests. */
      syncOnTrack: z.boolean().default(true),
      /** The most tags that initial sync takes from one repository. */
      maxSyncTags: z.coerce.number().int().positive().default(1000),
    })
    .prefault({}),
  outbound: z
    .strictObject({
      /**
       * Let the instance fetch from loopback, private and link-local addresses (federation
       * peers, mirrors, remote pages). Off by default: a remote server must not be able to make
       * this instance probe its own network. Tests that run several instances on loopback set it.
       */
      allowPrivateAddresses: z.boolean().default(false),
      /** Time limit for one outbound request (connect to last byte of headers). */
      timeoutSeconds: z.coerce.number().positive().default(30),
      /** Largest JSON document (actor, activity, manifest) accepted from another server. */
      maxDocumentBytes: z.coerce
        .number()
        .int()
        .positive()
        .default(1024 * 1024),
    })
    .prefault({}),
  web: z
    .strictObject({
      /** Server-rendered pages and the JSON API under /api/v1 (the registry API works without). */
      enabled: z.boolean().default(true),
      /** The instance's name on its pages; administrators may change it in the UI. */
      name: z.string().min(1).max(100).default("Flotilla"),
      description: z.string().max(1000).default("A federated container registry."),
      /** How long a browser sign-in lasts. */
      sessionHours: z.coerce.number().positive().default(168),
    })
    .prefault({}),
  gc: z
    .strictObject({
      /** Hours between scheduled runs (retention policies, then garbage collection); 0: off. */
      intervalHours: z.coerce.number().nonnegative().default(24),
      /** Blobs, links, manifests and files younger than this are never swept (pushes in flight). */
      graceMinutes: z.coerce.number().nonnegative().default(60),
      /** Delete manifests no tag reaches (directly, as an index child, or as a referrer). */
      deleteUntagged: z.boolean().default(false),
    })
    .prefault({}),
  retention: z
    .strictObject({
      /** Per repository pattern (`*` within a segment, `**` across); the first match applies. */
      policies: z
        .array(
          z.strictObject({
            match: z.string().min(1),
            keepLast: z.coerce.number().int().nonnegative().optional(),
            keepTags: z
              .string()
              .min(1)
              .refine(validRegExp, { message: "not a valid regular expression" })
              .optional(),
            untaggedDays: z.coerce.number().nonnegative().optional(),
          }),
        )
        .default([]),
    })
    .prefault({}),
  quota: z
    .strictObject({
      /** Refuse uploads and mounts that take a namespace over its quota (`flotilla quota set`). */
      enforce: z.boolean().default(true),
    })
    .prefault({}),
});

function validRegExp(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

export type Config = z.infer<typeof configSchema> & { publicUrl: string };

/** Short names the design fixes for scripts and operators, besides the generated ones. */
export const envAliases: Record<string, string> = {
  FLOTILLA_PEERS: "ipfs.peers",
};

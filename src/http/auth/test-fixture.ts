/** An app with token authentication on temporary stores, with users in every role (for tests). */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { AccessPolicy, AccountService, type LoginLimiter } from "../../accounts/index.ts";
import { createLogger } from "../../log/index.ts";
import { SqliteAccountStore, SqliteDatabase, SqliteMetaStore } from "../../meta/index.ts";
import { createRegistry, mediaTypes, type Registry } from "../../registry/index.ts";
import { FsBlobStore } from "../../storage/index.ts";
import { createApp } from "../app.ts";
import { tempDir } from "../test-support.ts";
import type { HttpApp } from "../types.ts";
import { TokenSigner } from "./token-signer.ts";

export const service = "registry.test";
export const issuer = "http://registry.test";
export const passwords: Record<string, string> = {
  alice: "alice-password",
  mia: "mia-password",
  rita: "rita-password",
  olga: "olga-password",
  root: "root-password",
};

/** The app's token authentication for tests: a signing key under `root`, and the access policy. */
export function testAuth(
  root: string,
  accounts: AccountService,
  policy = new AccessPolicy(accounts.store),
) {
  const keyFile = join(root, "keys", "token.pem");
  return {
    signer: new TokenSigner({ issuer, audience: service, ttlSeconds: 300, keyFile }),
    accounts,
    policy,
    challenge: { realm: `${issuer}/token`, service },
  };
}

export interface AuthFixture {
  app: HttpApp;
  registry: Registry;
  accounts: AccountService;
  keyFile: string;
  /** Everything the app logged. */
  logs(): string;
  /** A bearer token from GET /token, as `user` (undefined: anonymous) for the scopes. */
  token(user: string | undefined, scopes: string[], password?: string): Promise<string>;
  /** A request with a bearer token. */
  request(path: string, token: string | undefined, init?: RequestInit): Promise<Response>;
  /** A small image pushed straight through the registry services. */
  seed(repository: string, tag: string): Promise<{ manifest: string; layer: string }>;
}

export async function authFixture(options: { limiter?: LoginLimiter } = {}): Promise<AuthFixture> {
  const root = await tempDir("flotilla-auth-");
  const database = new SqliteDatabase(":memory:");
  const meta = new SqliteMetaStore({ database });
  let logged = "";
  const sink = new PassThrough();
  sink.on("data", (chunk) => {
    logged += String(chunk);
  });
  const log = createLogger({ level: "debug", format: "json" }, sink);
  const registry = createRegistry(
    { blobs: await FsBlobStore.create({ root }), meta, log },
    { maxManifestBytes: 1 << 20, manifestCacheBytes: 1 << 20 },
  );
  const accounts = new AccountService(new SqliteAccountStore(database), {
    refreshTokenDays: 1,
    limiter: options.limiter,
  });
  const keyFile = join(root, "keys", "token.pem");
  const auth = testAuth(root, accounts);
  const app = createApp({ registry, log }, { auth });

  for (const [name, password] of Object.entries(passwords)) {
    await accounts.createUser(name, password, { admin: name === "root" });
  }
  await accounts.createOrg("team", "alice");
  await accounts.setMember("team", "mia", "maintainer");
  await accounts.setMember("team", "rita", "reader");

  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

  return {
    app,
    registry,
    accounts,
    keyFile,
    logs: () => logged,
    async token(user, scopes, password) {
      const query = new URLSearchParams([
        ["service", service],
        ...scopes.map((s): [string, string] => ["scope", s]),
      ]);
      const headers: Record<string, string> = {};
      if (user) headers.Authorization = basic(user, password ?? (passwords[user] as string));
      const res = await app.request(`/token?${query}`, { headers });
      if (res.status !== 200)
        throw new Error(`token request failed: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    },
    request(path, token, init = {}) {
      const headers = new Headers(init.headers);
      if (token) headers.set("Authorization", `Bearer ${token}`);
      return Promise.resolve(app.request(path, { ...init, headers }));
    },
    async seed(repository, tag) {
      const layer = Buffer.from(`layer of ${repository}`);
      const config = Buffer.from("{}");
      const digest = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
      for (const blob of [layer, config]) {
        await registry.uploads.monolithic(repository, digest(blob), Readable.from([blob]));
      }
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: mediaTypes.ociManifest,
          config: { mediaType: mediaTypes.ociEmpty, digest: digest(config), size: config.length },
          layers: [
            {
              mediaType: "application/vnd.oci.image.layer.v1.tar",
              digest: digest(layer),
              size: layer.length,
            },
          ],
        }),
      );
      const stored = await registry.manifests.put(
        repository,
        tag,
        manifest,
        mediaTypes.ociManifest,
      );
      return { manifest: stored.digest, layer: digest(layer) };
    },
  };
}

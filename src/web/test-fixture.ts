/** An app with the web module on temporary stores, users, and an in-memory social service (tests). */
import { AccessPolicy, AccountService } from "../accounts/index.ts";
import {
  type BoostRecord,
  type FollowRecord,
  type ReportRecord,
  SocialError,
  type SocialService,
} from "../federation/types.ts";
import { createApp } from "../http/app.ts";
import { tempDir } from "../http/test-support.ts";
import type { HttpApp } from "../http/types.ts";
import { silentLogger } from "../log/index.ts";
import { SqliteAccountStore, SqliteDatabase, SqliteMetaStore } from "../meta/index.ts";
import type { MirrorStatus } from "../mirror/types.ts";
import { createRegistry, type Registry } from "../registry/index.ts";
import { FsBlobStore } from "../storage/index.ts";
import { createWeb, type Web } from "./index.ts";

export const publicUrl = "http://registry.test";

export interface WebFixture {
  /** The registry API is open (pushes need no token); the web module applies access rules. */
  app: HttpApp;
  registry: Registry;
  accounts: AccountService;
  web: Web;
  social?: FakeSocial;
  /** `Authorization` header for HTTP basic credentials. */
  basic(user: string, password: string): Record<string, string>;
}

export async function webFixture(
  options: { social?: boolean; mirrors?: MirrorStatus[]; auth?: boolean } = {},
): Promise<WebFixture> {
  const root = await tempDir("flotilla-web-");
  const database = new SqliteDatabase(":memory:");
  const meta = new SqliteMetaStore({ database });
  const log = silentLogger();
  const blobs = await FsBlobStore.create({ root });
  const registry = createRegistry(
    { blobs, meta, log },
    { maxManifestBytes: 4 << 20, manifestCacheBytes: 1 << 20 },
  );
  const accounts = new AccountService(new SqliteAccountStore(database), { refreshTokenDays: 30 });
  const social = options.social ? new FakeSocial() : undefined;
  const web = createWeb(
    {
      registry,
      accounts,
      policy: options.auth === false ? undefined : new AccessPolicy(accounts.store),
      database,
      log,
      social,
      mirrors: options.mirrors ? { list: async () => options.mirrors ?? [] } : undefined,
    },
    {
      publicUrl,
      keyFile: `${root}/keys/web-session.key`,
      name: "Test registry",
      description: "For tests.",
      sessionHours: 1,
    },
  );
  const app = createApp({ registry, log, web: web.services });
  return {
    app,
    registry,
    accounts,
    web,
    social,
    basic: (user, password) => ({
      Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
    }),
  };
}

/** Federation's social service, in memory: enough to test what the web module does with it. */
export class FakeSocial implements SocialService {
  readonly starsBy = new Map<string, Set<string>>();
  readonly boostList: BoostRecord[] = [];
  readonly reportList: ReportRecord[] = [];
  readonly followList: FollowRecord[] = [];
  readonly blocked = new Map<string, string | undefined>();

  async star(user: string, target: string) {
    if (target.startsWith("missing/")) throw new SocialError("not-found", `no ${target}`);
    const set = this.starsBy.get(target) ?? new Set();
    set.add(user);
    this.starsBy.set(target, set);
  }
  async unstar(user: string, target: string) {
    this.starsBy.get(target)?.delete(user);
  }
  async isStarred(user: string, target: string) {
    return this.starsBy.get(target)?.has(user) ?? false;
  }
  async boost(by: string, target: string) {
    const label = `registry.test/${target}`;
    if (!this.boostList.some((b) => b.label === label))
      this.boostList.unshift({
        actorId: this.actorUrlOf(target),
        label,
        by,
        createdAt: new Date(),
      });
  }
  async unboost(_by: string, target: string) {
    const at = this.boostList.findIndex((b) => b.label === `registry.test/${target}`);
    if (at >= 0) this.boostList.splice(at, 1);
  }
  async boosts() {
    return [...this.boostList];
  }
  async report(user: string, target: string, text: string) {
    const id = `r${this.reportList.length + 1}`;
    this.reportList.unshift({
      id,
      reporter: user,
      origin: "local",
      targetActorId: this.actorUrlOf(target),
      label: target,
      text,
      createdAt: new Date(),
    });
    return id;
  }
  async reports(options: { includeResolved?: boolean } = {}) {
    return this.reportList.filter((r) => options.includeResolved || !r.resolvedAt);
  }
  async resolveReport(id: string) {
    const report = this.reportList.find((r) => r.id === id);
    if (report) report.resolvedAt = new Date();
    return report !== undefined;
  }
  async follow(target: string) {
    if (!target.startsWith("@") && !target.startsWith("http"))
      throw new SocialError("invalid", `cannot follow "${target}"`);
    const record: FollowRecord = {
      actorId: target.startsWith("@") ? `https://remote.example/ap/users/${target}` : target,
      kind: target.startsWith("@") ? "namespace" : "repository",
      label: target,
      state: "pending",
      createdAt: new Date(),
    };
    this.followList.push(record);
    return record;
  }
  async unfollow(target: string) {
    const at = this.followList.findIndex((f) => f.actorId === target || f.label === target);
    if (at >= 0) this.followList.splice(at, 1);
    return at >= 0;
  }
  async follows() {
    return [...this.followList];
  }
  async blockDomain(domain: string, reason?: string) {
    this.blocked.set(domain, reason);
  }
  async unblockDomain(domain: string) {
    return this.blocked.delete(domain);
  }
  async blockedDomains() {
    return [...this.blocked].map(([domain, reason]) => ({ domain, reason, createdAt: new Date() }));
  }
  async counts(target: string) {
    return { stars: this.starsBy.get(target)?.size ?? 0, boosts: 0, followers: 0 };
  }
  async knownRemoteRepositories(options: { query?: string; limit: number }) {
    const known = [
      {
        actorId: "https://remote.example/ap/repos/zed/app",
        registryUrl: "https://remote.example",
        name: "zed/app",
        host: "remote.example",
        summary: "a remote app",
        lastSeenAt: new Date(0),
        followed: false,
      },
    ];
    const q = options.query?.toLowerCase() ?? "";
    return known.filter((k) => `${k.host}/${k.name}`.includes(q)).slice(0, options.limit);
  }
  handleOf(namespace: string) {
    return `@${namespace}@registry.test`;
  }
  actorUrlOf(repository: string) {
    return `${publicUrl}/ap/repos/${repository}`;
  }
}

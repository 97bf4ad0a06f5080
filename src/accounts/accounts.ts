/** Users, organizations, members and tokens; checking credentials. */

import type { AccountStore, Role, TokenRecord, TokenScope, Visibility } from "../meta/index.ts";
import { NameInvalidError } from "../registry/index.ts";
import { LoginLimiter } from "./login-limiter.ts";
import { hashPassword, verifyPassword } from "./passwords.ts";
import { contentNamespace } from "./policy.ts";
import { newSecret, parseSecret, personalPrefix, refreshPrefix, secretMatches } from "./secrets.ts";
import type { AuthResult, Principal } from "./types.ts";

const namespaceGrammar = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
export const minPasswordLength = 8;

export class AccountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AccountError";
  }
}

export interface AccountServiceOptions {
  refreshTokenDays: number;
  limiter?: LoginLimiter;
  /** Whether a name is a mirrored host's namespace, which no user or organization may take. */
  isMirroredHost?: (name: string) => Promise<boolean>;
}

export class AccountService {
  readonly store: AccountStore;
  readonly #options: AccountServiceOptions;
  readonly #limiter: LoginLimiter;

  constructor(store: AccountStore, options: AccountServiceOptions) {
    this.store = store;
    this.#options = options;
    this.#limiter = options.limiter ?? new LoginLimiter();
  }

  async createUser(
    name: string,
    password: string,
    options: { admin?: boolean } = {},
  ): Promise<void> {
    checkNamespaceName(name);
    checkPassword(password);
    await this.#checkNotMirrored(name);
    if (await this.store.getNamespace(name)) throw new AccountError(`the name "${name}" is taken`);
    await this.store.createUser({
      name,
      passwordHash: await hashPassword(password),
      admin: options.admin ?? false,
    });
  }

  async setPassword(name: string, password: string): Promise<void> {
    checkPassword(password);
    if (!(await this.store.updateUser(name, { passwordHash: await hashPassword(password) }))) {
      throw new AccountError(`no user "${name}"`);
    }
  }

  async setAdmin(name: string, admin: boolean): Promise<void> {
    if (!(await this.store.updateUser(name, { admin })))
      throw new AccountError(`no user "${name}"`);
  }

  /** Creates the administrator named by configuration when it does not exist yet. */
  async ensureAdmin(name: string, password: string): Promise<boolean> {
    if (await this.store.getUser(name)) return false;
    await this.createUser(name, password, { admin: true });
    return true;
  }

  async createOrg(name: string, owner?: string): Promise<void> {
    checkNamespaceName(name);
    await this.#checkNotMirrored(name);
    if (await this.store.getNamespace(name)) throw new AccountError(`the name "${name}" is taken`);
    if (owner && !(await this.store.getUser(owner))) throw new AccountError(`no user "${owner}"`);
    await this.store.createOrg(name, owner);
  }

  async removeNamespace(name: string): Promise<void> {
    if (!(await this.store.deleteNamespace(name)))
      throw new AccountError(`no user or organization "${name}"`);
  }

  async setMember(org: string, user: string, role: Role): Promise<void> {
    const namespace = await this.store.getNamespace(org);
    if (namespace?.kind !== "org") throw new AccountError(`no organization "${org}"`);
    if (!(await this.store.getUser(user))) throw new AccountError(`no user "${user}"`);
    await this.store.setMember(org, user, role);
  }

  async removeMember(org: string, user: string): Promise<void> {
    if (!(await this.store.removeMember(org, user)))
      throw new AccountError(`"${user}" is not a member of "${org}"`);
  }

  async setNamespaceVisibility(namespace: string, visibility: Visibility): Promise<void> {
    if (!(await this.store.setNamespaceVisibility(namespace, visibility))) {
      throw new AccountError(`no user or organization "${namespace}"`);
    }
  }

  /** Creates a personal access token; the returned `value` is shown once and never stored. */
  async createToken(
    user: string,
    options: { name: string; scope: TokenScope; expiresInDays?: number },
  ): Promise<{ id: string; value: string; expiresAt?: number }> {
    if (!(await this.store.getUser(user))) throw new AccountError(`no user "${user}"`);
    if (!options.name || options.name.length > 100)
      throw new AccountError("a token needs a name of 1 to 100 characters");
    const secret = newSecret(personalPrefix);
    const now = Date.now();
    const expiresAt = options.expiresInDays ? now + options.expiresInDays * 86_400_000 : undefined;
    await this.store.createToken({
      id: secret.id,
      user,
      kind: "personal",
      name: options.name,
      scope: options.scope,
      secretHash: secret.hash,
      createdAt: now,
      expiresAt,
    });
    return { id: secret.id, value: secret.value, expiresAt };
  }

  async revokeToken(id: string, user?: string): Promise<void> {
    const token = await this.store.getToken(id);
    if (!token || (user !== undefined && token.user !== user))
      throw new AccountError(`no token "${id}"`);
    await this.store.revokeToken(id, Date.now());
  }

  async listTokens(user: string): Promise<Array<Omit<TokenRecord, "secretHash">>> {
    return (await this.store.listTokens(user, "personal")).map(
      ({ secretHash: _, ...rest }) => rest,
    );
  }

  /**
   * Checks a username with a password or a personal access token. Failures are slowed, then
   * refused for a while, per account and per client address.
   */
  async authenticate(username: string, password: string, address: string): Promise<AuthResult> {
    const gate = this.#limiter.check(username, address);
    if (!gate.allowed)
      return { ok: false, reason: "rate-limited", retryAfterSeconds: gate.retryAfterSeconds };
    if (gate.delayMs) await new Promise((resolve) => setTimeout(resolve, gate.delayMs));
    const principal = await this.#check(username, password);
    if (!principal) {
      this.#limiter.fail(username, address);
      return { ok: false, reason: "invalid" };
    }
    this.#limiter.succeed(username);
    return { ok: true, principal };
  }

  /** Issues a refresh token (OAuth2 `offline` access) for the principal's user. */
  async createRefreshToken(principal: Principal, clientId: string): Promise<string | undefined> {
    if (!principal.user) return undefined;
    const secret = newSecret(refreshPrefix);
    const now = Date.now();
    await this.store.createToken({
      id: secret.id,
      user: principal.user,
      kind: "refresh",
      name: clientId.slice(0, 100) || "client",
      scope: principal.scope ?? "admin",
      secretHash: secret.hash,
      createdAt: now,
      expiresAt: now + this.#options.refreshTokenDays * 86_400_000,
    });
    return secret.value;
  }

  async redeemRefreshToken(value: string): Promise<Principal | undefined> {
    const parsed = parseSecret(value, refreshPrefix);
    if (!parsed) return undefined;
    return this.#fromToken(parsed, "refresh");
  }

  /** Re-checks, on every request, that a token's user and personal or refresh token still hold. */
  async current(
    user: string | undefined,
    tokenId: string | undefined,
  ): Promise<Principal | undefined> {
    if (!user) return { admin: false };
    const record = await this.store.getUser(user);
    if (!record) return undefined;
    if (!tokenId) return { user, admin: record.admin };
    const token = await this.store.getToken(tokenId);
    if (!token || token.user !== user || !usable(token)) return undefined;
    return {
      user,
      admin: record.admin,
      tokenId,
      scope: token.kind === "personal" ? token.scope : undefined,
    };
  }

  async #checkNotMirrored(name: string): Promise<void> {
    if (await this.#options.isMirroredHost?.(name))
      throw new AccountError(`the name "${name}" is the namespace of a mirrored registry`);
  }

  async #check(username: string, password: string): Promise<Principal | undefined> {
    const user = await this.store.getUser(username);
    const personal = parseSecret(password, personalPrefix);
    if (personal) {
      const principal = await this.#fromToken(personal, "personal");
      return principal?.user === username ? principal : undefined;
    }
    if (!user) {
      // Spend the same time as a real check so response times do not reveal which names exist.
      await verifyPassword(password, dummyHash);
      return undefined;
    }
    return (await verifyPassword(password, user.passwordHash))
      ? { user: user.name, admin: user.admin }
      : undefined;
  }

  async #fromToken(
    parsed: { id: string; secret: string },
    kind: TokenRecord["kind"],
  ): Promise<Principal | undefined> {
    const token = await this.store.getToken(parsed.id);
    if (
      !token ||
      token.kind !== kind ||
      !usable(token) ||
      !secretMatches(parsed.secret, token.secretHash)
    ) {
      return undefined;
    }
    const user = await this.store.getUser(token.user);
    if (!user) return undefined;
    await this.store.touchToken(token.id, Date.now());
    return {
      user: user.name,
      admin: user.admin,
      tokenId: token.id,
      scope: kind === "personal" ? token.scope : undefined,
    };
  }
}

const dummyHash =
  "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

function usable(token: TokenRecord): boolean {
  return (
    token.revokedAt === undefined && (token.expiresAt === undefined || token.expiresAt > Date.now())
  );
}

const reservedNames = new Set([contentNamespace, "v2", "api", "token", "library"]);

function checkNamespaceName(name: string): void {
  if (reservedNames.has(name)) throw new AccountError(`the name "${name}" is reserved`);
  if (name.length > 64 || !namespaceGrammar.test(name)) {
    throw new NameInvalidError(
      name.slice(0, 64),
      "a user or organization name is 1-64 lower-case letters, digits and . _ - separators",
    );
  }
}

function checkPassword(password: string): void {
  if (password.length < minPasswordLength) {
    throw new AccountError(`a password needs at least ${minPasswordLength} characters`);
  }
}

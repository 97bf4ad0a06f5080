/** AccountStore in the same SQLite database as the registry metadata. */
import type {
  AccountStore,
  NamespaceRecord,
  Role,
  TokenKind,
  TokenRecord,
  UserRecord,
  Visibility,
} from "./account-types.ts";
import type { SqliteDatabase } from "./sqlite-database.ts";

type Row = Record<string, unknown>;

export class SqliteAccountStore implements AccountStore {
  readonly #db: SqliteDatabase;

  constructor(database: SqliteDatabase) {
    this.#db = database;
  }

  async getNamespace(name: string): Promise<NamespaceRecord | undefined> {
    const row = this.#db.sql("SELECT * FROM namespaces WHERE name = ?").get(name);
    return row ? toNamespace(row) : undefined;
  }

  async listNamespaces(): Promise<NamespaceRecord[]> {
    return this.#db.sql("SELECT * FROM namespaces ORDER BY name").all().map(toNamespace);
  }

  async createUser(user: { name: string; passwordHash: string; admin: boolean }): Promise<void> {
    const now = Date.now();
    this.#db.transaction(() => {
      this.#db
        .sql("INSERT INTO namespaces (name, kind, created_at) VALUES (?, 'user', ?)")
        .run(user.name, now);
      this.#db
        .sql("INSERT INTO users (name, password_hash, admin, created_at) VALUES (?, ?, ?, ?)")
        .run(user.name, user.passwordHash, user.admin ? 1 : 0, now);
    });
  }

  async getUser(name: string): Promise<UserRecord | undefined> {
    const row = this.#db.sql("SELECT * FROM users WHERE name = ?").get(name);
    return row ? toUser(row) : undefined;
  }

  async listUsers(): Promise<UserRecord[]> {
    return this.#db.sql("SELECT * FROM users ORDER BY name").all().map(toUser);
  }

  async updateUser(
    name: string,
    changes: { passwordHash?: string; admin?: boolean },
  ): Promise<boolean> {
    const result = this.#db
      .sql(
        "UPDATE users SET password_hash = coalesce(?, password_hash), admin = coalesce(?, admin) WHERE name = ?",
      )
      .run(
        changes.passwordHash ?? null,
        changes.admin === undefined ? null : changes.admin ? 1 : 0,
        name,
      );
    return Number(result.changes) > 0;
  }

  async countAdmins(): Promise<number> {
    return Number(this.#db.sql("SELECT count(*) AS n FROM users WHERE admin = 1").get()?.n ?? 0);
  }

  async createOrg(name: string, owner?: string): Promise<void> {
    this.#db.transaction(() => {
      this.#db
        .sql("INSERT INTO namespaces (name, kind, created_at) VALUES (?, 'org', ?)")
        .run(name, Date.now());
      if (owner) {
        this.#db
          .sql("INSERT INTO members (org, user, role) VALUES (?, ?, 'owner')")
          .run(name, owner);
      }
    });
  }

  async deleteNamespace(name: string): Promise<boolean> {
    const result = this.#db.sql("DELETE FROM namespaces WHERE name = ?").run(name);
    return Number(result.changes) > 0;
  }

  async setNamespaceVisibility(name: string, visibility: Visibility): Promise<boolean> {
    const result = this.#db
      .sql("UPDATE namespaces SET default_visibility = ? WHERE name = ?")
      .run(visibility, name);
    return Number(result.changes) > 0;
  }

  async setMember(org: string, user: string, role: Role): Promise<void> {
    this.#db
      .sql(
        "INSERT INTO members (org, user, role) VALUES (?, ?, ?) ON CONFLICT (org, user) DO UPDATE SET role = excluded.role",
      )
      .run(org, user, role);
  }

  async removeMember(org: string, user: string): Promise<boolean> {
    const result = this.#db.sql("DELETE FROM members WHERE org = ? AND user = ?").run(org, user);
    return Number(result.changes) > 0;
  }

  async getRole(org: string, user: string): Promise<Role | undefined> {
    const row = this.#db.sql("SELECT role FROM members WHERE org = ? AND user = ?").get(org, user);
    return row ? (String(row.role) as Role) : undefined;
  }

  async listMembers(org: string): Promise<Array<{ user: string; role: Role }>> {
    return this.#db
      .sql("SELECT user, role FROM members WHERE org = ? ORDER BY user")
      .all(org)
      .map((row) => ({ user: String(row.user), role: String(row.role) as Role }));
  }

  async repositoryVisibility(repository: string): Promise<Visibility | null | undefined> {
    const row = this.#db.sql("SELECT visibility FROM repositories WHERE name = ?").get(repository);
    if (!row) return undefined;
    return row.visibility === null ? null : (String(row.visibility) as Visibility);
  }

  async setRepositoryVisibility(repository: string, visibility: Visibility | null): Promise<void> {
    this.#db
      .sql(
        `INSERT INTO repositories (name, created_at, visibility) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET visibility = excluded.visibility`,
      )
      .run(repository, Date.now(), visibility);
  }

  async createToken(token: TokenRecord): Promise<void> {
    this.#db
      .sql(
        `INSERT INTO tokens (id, user, kind, name, scope, secret_hash, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        token.id,
        token.user,
        token.kind,
        token.name,
        token.scope,
        token.secretHash,
        token.createdAt,
        token.expiresAt ?? null,
      );
  }

  async getToken(id: string): Promise<TokenRecord | undefined> {
    const row = this.#db.sql("SELECT * FROM tokens WHERE id = ?").get(id);
    return row ? toToken(row) : undefined;
  }

  async listTokens(user: string, kind: TokenKind): Promise<TokenRecord[]> {
    return this.#db
      .sql("SELECT * FROM tokens WHERE user = ? AND kind = ? ORDER BY created_at")
      .all(user, kind)
      .map(toToken);
  }

  async revokeToken(id: string, at: number): Promise<boolean> {
    const result = this.#db
      .sql("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
      .run(at, id);
    return Number(result.changes) > 0;
  }

  async touchToken(id: string, at: number): Promise<void> {
    this.#db.sql("UPDATE tokens SET last_used_at = ? WHERE id = ?").run(at, id);
  }
}

function toNamespace(row: Row): NamespaceRecord {
  return {
    name: String(row.name),
    kind: row.kind === "org" ? "org" : "user",
    defaultVisibility: row.default_visibility === "private" ? "private" : "public",
    createdAt: Number(row.created_at),
  };
}

function toUser(row: Row): UserRecord {
  return {
    name: String(row.name),
    passwordHash: String(row.password_hash),
    admin: Number(row.admin) === 1,
    createdAt: Number(row.created_at),
  };
}

function toToken(row: Row): TokenRecord {
  const token: TokenRecord = {
    id: String(row.id),
    user: String(row.user),
    kind: row.kind === "refresh" ? "refresh" : "personal",
    name: String(row.name),
    scope: String(row.scope) as TokenRecord["scope"],
    secretHash: String(row.secret_hash),
    createdAt: Number(row.created_at),
  };
  if (row.expires_at !== null) token.expiresAt = Number(row.expires_at);
  if (row.revoked_at !== null) token.revokedAt = Number(row.revoked_at);
  if (row.last_used_at !== null) token.lastUsedAt = Number(row.last_used_at);
  return token;
}

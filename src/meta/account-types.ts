/** Accounts in the metadata store: namespaces (users and organizations), members, tokens, visibility. */

export type Visibility = "public" | "private";
export type Role = "owner" | "maintainer" | "reader";
export type TokenScope = "pull" | "push" | "admin";
export type TokenKind = "personal" | "refresh";

export interface NamespaceRecord {
  name: string;
  kind: "user" | "org";
  defaultVisibility: Visibility;
  createdAt: number;
}

export interface UserRecord {
  name: string;
  passwordHash: string;
  admin: boolean;
  createdAt: number;
}

export interface TokenRecord {
  id: string;
  user: string;
  kind: TokenKind;
  name: string;
  scope: TokenScope;
  secretHash: string;
  createdAt: number;
  expiresAt?: number;
  revokedAt?: number;
  lastUsedAt?: number;
}

export interface AccountStore {
  getNamespace(name: string): Promise<NamespaceRecord | undefined>;
  listNamespaces(): Promise<NamespaceRecord[]>;
  /** Creates a user and the namespace of the same name. Fails if the name is taken. */
  createUser(user: { name: string; passwordHash: string; admin: boolean }): Promise<void>;
  getUser(name: string): Promise<UserRecord | undefined>;
  listUsers(): Promise<UserRecord[]>;
  updateUser(name: string, changes: { passwordHash?: string; admin?: boolean }): Promise<boolean>;
  countAdmins(): Promise<number>;
  /** Creates an organization namespace, optionally with its first owner. */
  createOrg(name: string, owner?: string): Promise<void>;
  /** Removes a user or organization namespace (its members and tokens go with it). */
  deleteNamespace(name: string): Promise<boolean>;
  setNamespaceVisibility(name: string, visibility: Visibility): Promise<boolean>;

  setMember(org: string, user: string, role: Role): Promise<void>;
  removeMember(org: string, user: string): Promise<boolean>;
  getRole(org: string, user: string): Promise<Role | undefined>;
  listMembers(org: string): Promise<Array<{ user: string; role: Role }>>;

  /** The repository's own visibility setting, `null` when it inherits, undefined when it does not exist. */
  repositoryVisibility(repository: string): Promise<Visibility | null | undefined>;
  setRepositoryVisibility(repository: string, visibility: Visibility | null): Promise<void>;

  createToken(token: TokenRecord): Promise<void>;
  getToken(id: string): Promise<TokenRecord | undefined>;
  listTokens(user: string, kind: TokenKind): Promise<TokenRecord[]>;
  revokeToken(id: string, at: number): Promise<boolean>;
  touchToken(id: string, at: number): Promise<void>;
}

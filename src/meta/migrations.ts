/** Versioned schema migrations; each runs once, in order, inside a transaction. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: "registry core",
    sql: `
      CREATE TABLE repositories (
        name TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE blobs (
        digest TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE repository_blobs (
        repository TEXT NOT NULL REFERENCES repositories(name) ON DELETE CASCADE,
        digest TEXT NOT NULL REFERENCES blobs(digest),
        created_at INTEGER NOT NULL,
        PRIMARY KEY (repository, digest)
      ) WITHOUT ROWID;
      CREATE INDEX repository_blobs_digest ON repository_blobs(digest);

      CREATE TABLE manifests (
        repository TEXT NOT NULL REFERENCES repositories(name) ON DELETE CASCADE,
        digest TEXT NOT NULL,
        media_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        artifact_type TEXT,
        subject TEXT,
        annotations TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (repository, digest)
      ) WITHOUT ROWID;
      CREATE INDEX manifests_subject ON manifests(repository, subject) WHERE subject IS NOT NULL;
      CREATE INDEX manifests_digest ON manifests(digest);

      CREATE TABLE manifest_references (
        repository TEXT NOT NULL,
        parent TEXT NOT NULL,
        child TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('blob', 'manifest')),
        PRIMARY KEY (repository, parent, child),
        FOREIGN KEY (repository, parent) REFERENCES manifests(repository, digest) ON DELETE CASCADE
      ) WITHOUT ROWID;
      CREATE INDEX manifest_references_child ON manifest_references(child);

      CREATE TABLE tags (
        repository TEXT NOT NULL,
        name TEXT NOT NULL,
        digest TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (repository, name),
        FOREIGN KEY (repository, digest) REFERENCES manifests(repository, digest) ON DELETE CASCADE
      ) WITHOUT ROWID;

      CREATE TABLE uploads (
        id TEXT PRIMARY KEY,
        repository TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: "accounts, organizations, tokens, visibility",
    sql: `
      CREATE TABLE namespaces (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('user', 'org')),
        default_visibility TEXT NOT NULL DEFAULT 'public' CHECK (default_visibility IN ('public', 'private')),
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE users (
        name TEXT PRIMARY KEY REFERENCES namespaces(name) ON DELETE CASCADE,
        password_hash TEXT NOT NULL,
        admin INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE members (
        org TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,
        user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('owner', 'maintainer', 'reader')),
        PRIMARY KEY (org, user)
      ) WITHOUT ROWID;
      CREATE INDEX members_user ON members(user);

      CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('personal', 'refresh')),
        name TEXT NOT NULL,
        scope TEXT NOT NULL CHECK (scope IN ('pull', 'push', 'admin')),
        secret_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        revoked_at INTEGER,
        last_used_at INTEGER
      ) WITHOUT ROWID;
      CREATE INDEX tokens_user ON tokens(user, kind);

      ALTER TABLE repositories ADD COLUMN visibility TEXT CHECK (visibility IN ('public', 'private'));
    `,
  },
  {
    version: 3,
    name: "IPFS: digest to CID, leaf ranges and dag-pb nodes",
    sql: `
      CREATE TABLE ipfs_roots (
        digest TEXT PRIMARY KEY,
        root TEXT NOT NULL,
        root_key TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX ipfs_roots_key ON ipfs_roots(root_key);

      CREATE TABLE ipfs_leaves (
        key TEXT NOT NULL,
        digest TEXT NOT NULL,
        offset INTEGER NOT NULL,
        length INTEGER NOT NULL,
        PRIMARY KEY (key, digest)
      ) WITHOUT ROWID;
      CREATE INDEX ipfs_leaves_digest ON ipfs_leaves(digest);

      CREATE TABLE ipfs_nodes (
        key TEXT NOT NULL,
        digest TEXT NOT NULL,
        bytes BLOB NOT NULL,
        PRIMARY KEY (key, digest)
      ) WITHOUT ROWID;
      CREATE INDEX ipfs_nodes_digest ON ipfs_nodes(digest);
    `,
  },
];

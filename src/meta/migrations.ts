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
  {
    version: 4,
    name: "storage lifecycle: upload digests in flight, namespace quotas, GC and retention runs",
    sql: `
      ALTER TABLE uploads ADD COLUMN digest TEXT;
      CREATE INDEX uploads_digest ON uploads(digest) WHERE digest IS NOT NULL;
      CREATE INDEX tags_digest ON tags(repository, digest);

      CREATE TABLE namespace_quotas (
        namespace TEXT PRIMARY KEY,
        bytes INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE lifecycle_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL CHECK (kind IN ('gc', 'retention')),
        trigger TEXT NOT NULL,
        dry_run INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        finished_at INTEGER NOT NULL,
        report TEXT NOT NULL,
        error TEXT
      );
    `,
  },
  {
    version: 6,
    name: "federation: keys, follows, activities seen, stars, boosts, reports, blocks, queue",
    sql: `
      CREATE TABLE federation_kv (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        expires_at INTEGER
      ) WITHOUT ROWID;

      CREATE TABLE federation_queue (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        message TEXT NOT NULL,
        ordering_key TEXT,
        target_host TEXT,
        ready_at INTEGER NOT NULL,
        claimed_at INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX federation_queue_ready ON federation_queue(claimed_at, ready_at);
      CREATE INDEX federation_queue_host ON federation_queue(target_host);

      CREATE TABLE federation_keys (
        actor TEXT NOT NULL,
        algorithm TEXT NOT NULL,
        private_jwk TEXT NOT NULL,
        public_jwk TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (actor, algorithm)
      ) WITHOUT ROWID;

      CREATE TABLE federation_followers (
        actor TEXT NOT NULL,
        follower_id TEXT NOT NULL,
        inbox TEXT NOT NULL,
        shared_inbox TEXT,
        follow_id TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (actor, follower_id)
      ) WITHOUT ROWID;

      CREATE TABLE federation_following (
        actor_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('repository', 'namespace')),
        label TEXT NOT NULL,
        inbox TEXT NOT NULL,
        follow_id TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'rejected')),
        registry_url TEXT,
        name TEXT,
        created_at INTEGER NOT NULL,
        accepted_at INTEGER
      ) WITHOUT ROWID;

      CREATE TABLE federation_activities_seen (
        id TEXT PRIMARY KEY,
        actor TEXT NOT NULL,
        received_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX federation_activities_seen_at ON federation_activities_seen(received_at);

      CREATE TABLE federation_stars (
        target TEXT NOT NULL,
        liker TEXT NOT NULL,
        origin TEXT NOT NULL CHECK (origin IN ('local', 'remote')),
        activity_id TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (target, liker)
      ) WITHOUT ROWID;

      CREATE TABLE federation_boosts (
        target TEXT NOT NULL,
        booster TEXT NOT NULL,
        origin TEXT NOT NULL CHECK (origin IN ('local', 'remote')),
        label TEXT NOT NULL,
        activity_id TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (target, booster)
      ) WITHOUT ROWID;

      CREATE TABLE federation_reports (
        id TEXT PRIMARY KEY,
        reporter TEXT NOT NULL,
        origin TEXT NOT NULL CHECK (origin IN ('local', 'remote')),
        target TEXT NOT NULL,
        label TEXT NOT NULL,
        text TEXT NOT NULL,
        activity_id TEXT,
        created_at INTEGER NOT NULL,
        resolved_at INTEGER
      ) WITHOUT ROWID;

      CREATE TABLE federation_blocked_domains (
        domain TEXT PRIMARY KEY,
        reason TEXT,
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE federation_remote_repositories (
        actor_id TEXT PRIMARY KEY,
        registry_url TEXT NOT NULL,
        name TEXT NOT NULL,
        host TEXT NOT NULL,
        url TEXT,
        summary TEXT,
        namespace_actor TEXT,
        last_tag TEXT,
        last_digest TEXT,
        last_seen_at INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE federation_remote_tags (
        actor_id TEXT NOT NULL,
        tag TEXT NOT NULL,
        digest TEXT,
        published INTEGER NOT NULL,
        activity_id TEXT NOT NULL,
        object_id TEXT NOT NULL,
        PRIMARY KEY (actor_id, tag)
      ) WITHOUT ROWID;
      CREATE INDEX federation_remote_tags_object ON federation_remote_tags(object_id);

      CREATE TABLE federation_notes (
        repository TEXT NOT NULL,
        tag TEXT NOT NULL,
        id TEXT NOT NULL UNIQUE,
        digest TEXT NOT NULL,
        json TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (repository, tag)
      ) WITHOUT ROWID;

      CREATE TABLE federation_outbox (
        id TEXT PRIMARY KEY,
        actor TEXT NOT NULL,
        json TEXT NOT NULL,
        published INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX federation_outbox_actor ON federation_outbox(actor, published);
    `,
  },
  {
    version: 7,
    name: "mirror: mirrored repositories and the evidence behind each tag",
    sql: `
      CREATE TABLE mirrored_repositories (
        actor_id TEXT PRIMARY KEY,
        local_name TEXT NOT NULL UNIQUE,
        host_namespace TEXT NOT NULL,
        registry_url TEXT NOT NULL,
        name TEXT NOT NULL,
        tracked_at INTEGER NOT NULL,
        last_claim_at INTEGER,
        last_error TEXT
      ) WITHOUT ROWID;
      CREATE INDEX mirrored_repositories_host ON mirrored_repositories(host_namespace);

      CREATE TABLE mirror_tags (
        local_name TEXT NOT NULL REFERENCES mirrored_repositories(local_name) ON DELETE CASCADE,
        tag TEXT NOT NULL,
        digest TEXT NOT NULL,
        activity_id TEXT,
        object_id TEXT,
        signer TEXT,
        proof TEXT,
        published_at INTEGER,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (local_name, tag)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 8,
    name: "web: repository descriptions, platforms per manifest, instance settings",
    sql: `
      CREATE TABLE web_repositories (
        name TEXT PRIMARY KEY REFERENCES repositories(name) ON DELETE CASCADE,
        description TEXT NOT NULL DEFAULT '',
        readme TEXT NOT NULL DEFAULT '',
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE web_platforms (
        repository TEXT NOT NULL,
        digest TEXT NOT NULL,
        platform TEXT NOT NULL,
        PRIMARY KEY (repository, digest, platform),
        FOREIGN KEY (repository, digest) REFERENCES manifests(repository, digest) ON DELETE CASCADE
      ) WITHOUT ROWID;
      CREATE INDEX web_platforms_platform ON web_platforms(platform);

      CREATE TABLE web_settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 9,
    name: "web: signed-out sessions",
    sql: `
      CREATE TABLE web_signed_out (
        id TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
];

/** The durable CidIndex, in the instance's SQLite database beside the registry metadata. */
import { CID } from "multiformats/cid";
import type { SqliteDatabase } from "../meta/index.ts";
import type { BlockLocation, CidIndex, ImportedDag } from "./types.ts";

export class SqliteCidIndex implements CidIndex {
  readonly #db: SqliteDatabase;

  constructor(database: SqliteDatabase) {
    this.#db = database;
  }

  async putImport(digest: string, dag: ImportedDag): Promise<void> {
    this.#db.transaction(() => {
      this.#delete(digest);
      this.#db
        .sql("INSERT INTO ipfs_roots (digest, root, root_key) VALUES (?, ?, ?)")
        .run(digest, dag.cid.toString(), key(dag.cid));
      const leaf = this.#db.sql(
        "INSERT OR IGNORE INTO ipfs_leaves (key, digest, offset, length) VALUES (?, ?, ?, ?)",
      );
      for (const l of dag.leaves) leaf.run(key(l.cid), digest, l.offset, l.length);
      const node = this.#db.sql(
        "INSERT OR IGNORE INTO ipfs_nodes (key, digest, bytes) VALUES (?, ?, ?)",
      );
      for (const n of dag.nodes) node.run(key(n.cid), digest, n.bytes);
    });
  }

  async deleteImport(digest: string): Promise<void> {
    this.#db.transaction(() => this.#delete(digest));
  }

  async rootOf(digest: string): Promise<CID | undefined> {
    const row = this.#db.sql("SELECT root FROM ipfs_roots WHERE digest = ?").get(digest);
    return row ? CID.parse(String(row.root)) : undefined;
  }

  async digestOf(root: CID): Promise<string | undefined> {
    const row = this.#db
      .sql("SELECT digest FROM ipfs_roots WHERE root_key = ? LIMIT 1")
      .get(key(root));
    return row ? String(row.digest) : undefined;
  }

  async leaf(cid: CID): Promise<BlockLocation | undefined> {
    const row = this.#db
      .sql("SELECT digest, offset, length FROM ipfs_leaves WHERE key = ? LIMIT 1")
      .get(key(cid));
    return row
      ? { digest: String(row.digest), offset: Number(row.offset), length: Number(row.length) }
      : undefined;
  }

  async node(cid: CID): Promise<Uint8Array | undefined> {
    const row = this.#db.sql("SELECT bytes FROM ipfs_nodes WHERE key = ? LIMIT 1").get(key(cid));
    return row ? (row.bytes as Uint8Array) : undefined;
  }

  #delete(digest: string): void {
    this.#db.sql("DELETE FROM ipfs_roots WHERE digest = ?").run(digest);
    this.#db.sql("DELETE FROM ipfs_leaves WHERE digest = ?").run(digest);
    this.#db.sql("DELETE FROM ipfs_nodes WHERE digest = ?").run(digest);
  }
}

/** Keyed by codec and multihash, so CIDv0 and CIDv1 spellings of one block meet. */
function key(cid: CID): string {
  return `${cid.code}:${Buffer.from(cid.multihash.bytes).toString("base64")}`;
}

/**
 * The invariants a crash must not break, checked two ways: by walking the database (read-only)
 * and the files while the server is down, and through the API against what clients were told.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { SqliteMetaStore } from "../../src/meta/index.ts";
import { type Reply, send, sha256 } from "./client.ts";
import type { Possible, RepositoryModel } from "./model.ts";

export interface StoreWalk {
  problems: string[];
  blobs: number;
  manifests: number;
  tags: number;
  references: number;
  uploads: number;
  /** Upload rows whose file is gone (a PUT died between moving the file and deleting the row). */
  uploadsWithoutFile: number;
  /** Upload files in uploads/ with no row: they can neither resume nor expire. */
  orphanUploadFiles: number;
  /** `putBlob` temporaries (`put-<pid>-…`) in uploads/, left by a kill mid-write. */
  temporaries: number;
  /** Recorded blobs whose file a killed GC had moved aside (a restart must put them back). */
  aside: string[];
  /** Blob files no row names (a kill mid-push or mid-GC; GC removes them). */
  unnamedFiles: number;
}

function blobPath(dataDir: string, digest: string): string {
  const [algorithm = "", hex = ""] = digest.split(":");
  return join(dataDir, "blobs", algorithm, hex.slice(0, 2), hex);
}

async function fileDigest(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest("hex")}`;
}

/**
 * Walks the database and the blob files of a stopped (or idle) instance. `verified` remembers
 * files already hashed: committed blobs are immutable, so each is hashed once per run.
 */
export async function walkStore(
  dataDir: string,
  verified: Map<string, number>,
): Promise<StoreWalk> {
  const problems: string[] = [];
  const db = new DatabaseSync(join(dataDir, "meta.db"), { readOnly: true });
  try {
    const rows = (sql: string) => db.prepare(sql).all() as Record<string, string | number>[];
    for (const row of rows("PRAGMA integrity_check")) {
      const message = String(Object.values(row)[0]);
      if (message !== "ok") problems.push(`integrity_check: ${message}`);
    }
    for (const row of rows("PRAGMA foreign_key_check")) {
      problems.push(`foreign key violation in ${row.table} row ${row.rowid}`);
    }
    const blobs = rows("SELECT digest, size FROM blobs");
    const manifests = rows("SELECT repository, digest, size FROM manifests");
    const files = new Map<string, number>();
    const aside: string[] = [];
    for (const row of blobs) files.set(String(row.digest), Number(row.size));
    for (const row of manifests) files.set(String(row.digest), Number(row.size));
    for (const [digest, size] of files) {
      if (verified.get(digest) === size) continue;
      let path = blobPath(dataDir, digest);
      let info = await stat(path).catch(() => undefined);
      const movedAside = info ? undefined : await asidePath(dataDir, digest);
      if (movedAside) {
        aside.push(digest);
        path = movedAside;
        info = await stat(path).catch(() => undefined);
      }
      if (!info) {
        problems.push(`${digest}: recorded (${size} bytes) but its file is missing`);
        continue;
      }
      if (info.size !== size)
        problems.push(`${digest}: recorded ${size} bytes, file has ${info.size}`);
      else if ((await fileDigest(path)) !== digest)
        problems.push(`${digest}: file content does not match`);
      else if (!movedAside) verified.set(digest, size);
    }
    const manifestKeys = new Set(manifests.map((m) => `${m.repository}@${m.digest}`));
    const blobKeys = new Set(blobs.map((b) => String(b.digest)));
    const references = rows("SELECT repository, parent, child, kind FROM manifest_references");
    for (const ref of references) {
      const known =
        ref.kind === "blob"
          ? blobKeys.has(String(ref.child))
          : manifestKeys.has(`${ref.repository}@${ref.child}`);
      if (!known)
        problems.push(`${ref.repository}@${ref.parent} refers to missing ${ref.kind} ${ref.child}`);
    }
    const tags = rows("SELECT repository, name, digest FROM tags");
    for (const tag of tags) {
      if (!manifestKeys.has(`${tag.repository}@${tag.digest}`)) {
        problems.push(`tag ${tag.repository}:${tag.name} points at missing ${tag.digest}`);
      }
    }
    for (const link of rows("SELECT repository, digest FROM repository_blobs")) {
      if (!blobKeys.has(String(link.digest)))
        problems.push(`${link.repository} links unknown blob ${link.digest}`);
    }
    const uploads = rows("SELECT id FROM uploads").map((u) => String(u.id));
    const uploadDir = join(dataDir, "uploads");
    const uploadFiles = new Set(existsSync(uploadDir) ? await readdir(uploadDir) : []);
    const uploadIds = new Set(uploads);
    return {
      problems,
      blobs: blobs.length,
      manifests: manifests.length,
      tags: tags.length,
      references: references.length,
      uploads: uploads.length,
      uploadsWithoutFile: uploads.filter((id) => !uploadFiles.has(id)).length,
      orphanUploadFiles: [...uploadFiles].filter((f) => !uploadIds.has(f) && !f.startsWith("put-"))
        .length,
      temporaries: [...uploadFiles].filter((f) => f.startsWith("put-")).length,
      aside,
      unnamedFiles: (await blobFiles(dataDir)).filter((digest) => !files.has(digest)).length,
    };
  } finally {
    db.close();
  }
}

/** Where a killed GC run may have left a blob file (`gc-aside/<alg>-<hex>.<token>`). */
async function asidePath(dataDir: string, digest: string): Promise<string | undefined> {
  const dir = join(dataDir, "gc-aside");
  const names = await readdir(dir).catch(() => [] as string[]);
  const name = names.find((n) => n.startsWith(`${digest.replace(":", "-")}.`));
  return name ? join(dir, name) : undefined;
}

/** Every digest with a file under blobs/. */
export async function blobFiles(dataDir: string): Promise<string[]> {
  const digests: string[] = [];
  const root = join(dataDir, "blobs");
  for (const algorithm of await readdir(root).catch(() => [] as string[])) {
    for (const prefix of await readdir(join(root, algorithm))) {
      for (const hex of await readdir(join(root, algorithm, prefix)))
        digests.push(`${algorithm}:${hex}`);
    }
  }
  return digests;
}

/** Files a killed GC left in gc-aside/ (a restart must have put back or removed all). */
export async function asideFiles(dataDir: string): Promise<string[]> {
  return readdir(join(dataDir, "gc-aside")).catch(() => [] as string[]);
}

/** `putBlob` temporaries in uploads/ not written by `pid` (a restart must have removed them). */
export async function deadTemporaries(dataDir: string, pid: number | undefined): Promise<string[]> {
  const names = await readdir(join(dataDir, "uploads")).catch(() => [] as string[]);
  return names.filter((name) => name.startsWith("put-") && !name.startsWith(`put-${pid}-`));
}

/** The MetaStore's own consistency check, on a second connection beside the running server. */
export async function metaCheck(dataDir: string): Promise<string[]> {
  const meta = new SqliteMetaStore({ path: join(dataDir, "meta.db") });
  try {
    return await meta.check();
  } finally {
    await meta.close();
  }
}

/**
 * Checks every fact of `model` against the API and narrows uncertain ones to what the server
 * shows. `sample` limits how many certain blob and manifest facts are re-read (all when Infinity).
 */
export async function checkModel(
  url: string,
  model: RepositoryModel,
  sample: number,
  pick: (n: number) => number,
): Promise<string[]> {
  const problems: string[] = [];
  const base = `${url}/v2/${model.name}`;
  const narrow = (what: string, possible: Possible, present: boolean) => {
    if (!possible.has(present))
      problems.push(
        `${what} is ${present ? "present" : "absent"}, but the client was told otherwise`,
      );
    possible.clear();
    possible.add(present);
  };
  const chosen = <T>(entries: [string, T & { possible: Possible }][]) => {
    const uncertain = entries.filter(([, f]) => f.possible.size > 1);
    const certain = entries.filter(([, f]) => f.possible.size === 1);
    if (certain.length <= sample) return [...uncertain, ...certain];
    const some = Array.from(
      { length: sample },
      () => certain[pick(certain.length)] as [string, T & { possible: Possible }],
    );
    return [...uncertain, ...some];
  };

  for (const [digest, fact] of chosen([...model.blobs])) {
    const reply = await send(`${base}/blobs/${digest}`);
    const present = reply.status === 200;
    if (!present && reply.status !== 404) problems.push(`GET blob ${digest}: ${reply.status}`);
    if (present && (reply.body.length !== fact.size || sha256(reply.body) !== digest)) {
      problems.push(
        `blob ${digest} in ${model.name} came back corrupt (${reply.body.length} bytes)`,
      );
    }
    narrow(`blob ${model.name}@${digest}`, fact.possible, present);
  }
  for (const [digest, fact] of chosen([...model.manifests])) {
    const reply = await send(`${base}/manifests/${digest}`, {
      headers: { Accept: fact.mediaType },
    });
    const present = reply.status === 200;
    if (!present && reply.status !== 404) problems.push(`GET manifest ${digest}: ${reply.status}`);
    if (present && !reply.body.equals(fact.bytes))
      problems.push(`manifest ${digest} came back different`);
    narrow(`manifest ${model.name}@${digest}`, fact.possible, present);
  }
  for (const [tag, targets] of model.tags) {
    const reply: Reply = await send(`${base}/manifests/${tag}`, {
      method: "HEAD",
      headers: {
        Accept:
          "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json",
      },
    });
    const actual = reply.status === 200 ? String(reply.headers["docker-content-digest"]) : null;
    if (reply.status !== 200 && reply.status !== 404)
      problems.push(`HEAD tag ${tag}: ${reply.status}`);
    if (!targets.has(actual)) {
      problems.push(
        `tag ${model.name}:${tag} is ${actual ?? "absent"}, expected one of ${[...targets].join(", ")}`,
      );
    }
    targets.clear();
    targets.add(actual);
  }
  return problems;
}

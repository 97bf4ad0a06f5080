/** Test helpers for the IPFS extension: deterministic bytes and temporary blob files. */
import { createCipheriv, createHash } from "node:crypto";
import { mkdir, mkdtemp, open, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Deterministic pseudo-random bytes (an AES-CTR keystream), different for each `seed`. */
export function patternBytes(size: number, seed = "flotilla"): Buffer {
  const key = createHash("sha256").update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv("aes-128-ctr", key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

/** Splits bytes into pieces of uneven sizes, as a network stream would deliver them. */
export async function* unevenPieces(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  const sizes = [1, 7000, 65536, 300001, 1 << 20];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const take = sizes[i % sizes.length] as number;
    yield bytes.subarray(at, at + take);
    at += take;
  }
}

export interface TempBlobs {
  dir: string;
  /** Where a digest's bytes live, laid out as FsBlobStore lays them out. */
  blobPath(digest: string): string;
  /** Writes `size` pattern bytes as a blob; returns its digest. Streams, for large sizes. */
  write(size: number, seed?: string): Promise<string>;
  remove(): Promise<void>;
}

/** A temporary directory of blob files, written without keeping large blobs in memory. */
export async function tempBlobs(): Promise<TempBlobs> {
  const dir = await mkdtemp(join(tmpdir(), "flotilla-ipfs-"));
  const blobPath = (digest: string) => join(dir, "blobs", digest.replace(":", "/"));
  return {
    dir,
    blobPath,
    async write(size, seed = `seed-${size}`) {
      const staging = join(dir, `staging-${Math.random().toString(36).slice(2)}`);
      const handle = await open(staging, "w");
      const hash = createHash("sha256");
      const piece = 8 << 20;
      try {
        for (let at = 0; at < size; at += piece) {
          const bytes = patternBytes(Math.min(piece, size - at), `${seed}:${at}`);
          hash.update(bytes);
          await handle.write(bytes);
        }
      } finally {
        await handle.close();
      }
      const digest = `sha256:${hash.digest("hex")}`;
      await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
      await rename(staging, blobPath(digest));
      return digest;
    },
    async remove() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

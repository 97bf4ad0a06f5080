/** BlobFiles over FsBlobStore's layout: files are moved aside into `<dataDir>/gc-aside/`. */
import { randomBytes } from "node:crypto";
import { link, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { FsBlobStore } from "../storage/index.ts";
import type { BlobFile, BlobFiles } from "./types.ts";

export class FsBlobFiles implements BlobFiles {
  readonly #store: FsBlobStore;
  readonly #aside: string;
  readonly #uploads: string;

  /**
   * `aside` must be on the blob store's filesystem, so moving a file is an atomic rename;
   * `uploads` is the store's upload directory (`<root>/uploads`).
   */
  constructor(store: FsBlobStore, aside: string, uploads: string) {
    this.#store = store;
    this.#aside = aside;
    this.#uploads = uploads;
  }

  async *uploadFiles(): AsyncIterable<{ id: string; size: number; modifiedAt: number }> {
    let names: string[];
    try {
      names = await readdir(this.#uploads);
    } catch {
      return;
    }
    for (const id of names) {
      try {
        const s = await stat(join(this.#uploads, id));
        if (s.isFile()) yield { id, size: s.size, modifiedAt: s.mtimeMs };
      } catch {
        // gone meanwhile: committed or cancelled
      }
    }
  }

  async deleteUploadFile(id: string): Promise<void> {
    await this.#store.deleteUpload(id);
  }

  async *list(): AsyncIterable<BlobFile> {
    for await (const digest of this.#store.listBlobs()) {
      const file = await this.stat(digest);
      if (file) yield file;
    }
  }

  async stat(digest: string): Promise<BlobFile | undefined> {
    try {
      const s = await stat(this.#store.blobPath(digest));
      return { digest, size: s.size, modifiedAt: s.mtimeMs };
    } catch {
      return undefined;
    }
  }

  async moveAside(digest: string): Promise<string | undefined> {
    await mkdir(this.#aside, { recursive: true });
    const token = `${digest.replace(":", "-")}.${randomBytes(6).toString("hex")}`;
    try {
      await rename(this.#store.blobPath(digest), join(this.#aside, token));
      return token;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async restore(digest: string, token: string): Promise<void> {
    const target = this.#store.blobPath(digest);
    await mkdir(dirname(target), { recursive: true });
    try {
      // link() rather than rename(): it fails instead of replacing a file committed meanwhile.
      await link(join(this.#aside, token), target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    await this.discard(token);
  }

  async discard(token: string): Promise<void> {
    await rm(join(this.#aside, token), { force: true });
  }

  async *leftAside(): AsyncIterable<{ digest: string; token: string }> {
    let names: string[];
    try {
      names = await readdir(this.#aside);
    } catch {
      return;
    }
    for (const token of names) {
      const match = /^([a-z0-9]+)-([a-f0-9]+)\.[a-f0-9]+$/.exec(token);
      if (match) yield { digest: `${match[1]}:${match[2]}`, token };
    }
  }
}

/**
 * Content addressed by CID, for `<host>/ipfs/<cid>` pulls: the image a CID names (a manifest or
 * index Flotilla imported, or nerdctl's descriptor with `ipfs://` URLs), and the blobs it refers
 * to. What this instance lacks comes from peers over bitswap, is checked against its sha256 digest
 * and kept before it is served, and is imported so this instance serves it to others in turn.
 */

import { buffer } from "node:stream/consumers";
import { CID } from "multiformats/cid";
import type { Logger } from "../log/index.ts";
import type { BlobMeta } from "../meta/index.ts";
import {
  type BlobBody,
  type BlobService,
  BlobUnknownError,
  digestOf,
  ManifestInvalidError,
  ManifestUnknownError,
  manifestKinds,
  mediaTypes,
  OciError,
  type OpenOptions,
  parseDigest,
} from "../registry/index.ts";
import type { BlobStore } from "../storage/index.ts";
import { IpfsBlobSource, type IpfsBlobSourceDeps } from "./blob-source.ts";
import type { IpfsExtension } from "./extension.ts";
import { chunkSize, cidFromSha256Digest, sha256DigestOfRawCid } from "./importer.ts";

const maxManifestBytes = 4 << 20;

interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  urls?: string[];
}

export interface CidManifest {
  digest: string;
  mediaType: string;
  bytes: Uint8Array;
}

export interface CidContentDeps {
  ipfs: IpfsExtension;
  blobs: BlobStore;
  registryBlobs: BlobService;
  meta: BlobMeta;
  log: Logger;
}

export class CidContent {
  readonly #deps: CidContentDeps;
  /** Descriptors seen in the manifests under each root, to find a blob's size and URLs. */
  readonly #descriptors = new Map<string, Map<string, Descriptor>>();
  /** The registry's source for blobs a repository lacks: peers, by the CID the index or they know. */
  readonly source: IpfsBlobSource;

  constructor(deps: CidContentDeps) {
    this.#deps = deps;
    this.source = new IpfsBlobSource(this.#sourceDeps());
  }

  #sourceDeps(): IpfsBlobSourceDeps {
    const { ipfs, log } = this.#deps;
    return {
      node: ipfs.node,
      index: ipfs.index,
      log,
      fetched: (digest, root, leaves) => ipfs.fetched(digest, root, leaves),
    };
  }

  /** The root CID of `ipfs/<cid>`, or an error a client understands. */
  parseRoot(text: string): CID {
    try {
      return CID.parse(text);
    } catch {
      throw new OciError("NAME_INVALID", "not a CID", { detail: { cid: text.slice(0, 100) } });
    }
  }

  /** The manifest `latest` (the root's own) or a manifest by digest within the root's image. */
  async manifest(root: CID, reference: string, signal?: AbortSignal): Promise<CidManifest> {
    const top = await this.#rootManifest(root, signal);
    if (reference === "latest" || reference === top.digest) return top;
    if (!reference.includes(":"))
      throw new ManifestUnknownError(reference, "an ipfs/<cid> image has only the tag latest");
    parseDigest(reference);
    const descriptor = this.#descriptors.get(root.toString())?.get(reference);
    if (!descriptor) throw new ManifestUnknownError(reference);
    const bytes = await this.#small(descriptor, signal);
    return this.#remember(root, reference, bytes);
  }

  /**
   * A blob of the root's image, ready to send: stored here, or streamed from peers while it is
   * checked and stored (and then imported, so this instance serves it to others in turn).
   */
  async blob(
    root: CID,
    repository: string,
    digest: string,
    options: OpenOptions = {},
  ): Promise<BlobBody> {
    parseDigest(digest);
    // Only blobs of the image the CID names: `ipfs/<cid>` must not open anything else held here.
    const descriptor = await this.#descriptorIn(root, digest, options.signal);
    if (!descriptor) throw new BlobUnknownError(digest);
    const { registryBlobs } = this.#deps;
    if ((await this.#deps.blobs.stat(digest)) && (await this.#deps.ipfs.isShared(digest))) {
      // Held for a public repository: link it here too, so the usual checks and serving apply.
      const holder = (await registryBlobs.holders(digest))[0];
      if (holder && holder !== repository) await registryBlobs.mount(repository, digest, holder);
      if (holder) return registryBlobs.open(repository, digest, options);
    }
    const source = new IpfsBlobSource(this.#sourceDeps(), (_request, signal) =>
      this.#cidFor(descriptor, signal),
    );
    return registryBlobs.openFrom({ repository, digest, size: descriptor.size }, [source], options);
  }

  /** The descriptor of `digest` within the image `root` names (its index's children included). */
  async #descriptorIn(
    root: CID,
    digest: string,
    signal?: AbortSignal,
  ): Promise<Descriptor | undefined> {
    const top = await this.#rootManifest(root, signal);
    const seen = () => this.#descriptors.get(root.toString());
    if (seen()?.has(digest)) return seen()?.get(digest);
    // After a restart only the top level is known: look through the index's child manifests.
    const children = [...(seen()?.values() ?? [])].filter(
      (d) => d.mediaType !== undefined && manifestKinds.has(d.mediaType) && d.digest !== top.digest,
    );
    for (const child of children.slice(0, 64)) {
      await this.manifest(root, child.digest, signal);
      if (seen()?.has(digest)) return seen()?.get(digest);
    }
    return undefined;
  }

  async #rootManifest(root: CID, signal?: AbortSignal): Promise<CidManifest> {
    const known = (await this.#deps.ipfs.index.digestOf(root)) ?? sha256DigestOfRawCid(root);
    let bytes = known ? await this.#localBytes(known) : undefined;
    const fetched = !bytes;
    bytes ??= await this.#fetchSmall(root, signal);
    const json = parseJson(bytes);
    // nerdctl publishes a descriptor of the image, with the manifest's CID in `urls`.
    if (
      json &&
      typeof json.digest === "string" &&
      Array.isArray(json.urls) &&
      !("schemaVersion" in json)
    ) {
      if (fetched) await this.#keep(root, digestOf(bytes), bytes);
      const inner = await this.#small(json as unknown as Descriptor, signal);
      return this.#remember(root, json.digest, inner);
    }
    return this.#remember(root, digestOf(bytes), bytes);
  }

  /** Checks a manifest, keeps it, and notes the descriptors it refers to. */
  async #remember(root: CID, digest: string, bytes: Uint8Array): Promise<CidManifest> {
    if (digestOf(bytes) !== digest)
      throw new ManifestInvalidError("fetched manifest does not match its digest");
    const json = parseJson(bytes);
    if (json?.schemaVersion !== 2)
      throw new ManifestInvalidError("the CID does not name an OCI manifest or index");
    const mediaType =
      typeof json.mediaType === "string" && manifestKinds.has(json.mediaType)
        ? json.mediaType
        : Array.isArray(json.manifests)
          ? mediaTypes.ociIndex
          : mediaTypes.ociManifest;
    let seen = this.#descriptors.get(root.toString());
    if (!seen) {
      if (this.#descriptors.size > 1000) this.#descriptors.clear();
      seen = new Map();
      this.#descriptors.set(root.toString(), seen);
    }
    const list = [
      json.config as Record<string, unknown> | undefined,
      ...asArray(json.layers),
      ...asArray(json.manifests),
    ];
    for (const d of list) {
      if (d && typeof d.digest === "string" && Number.isSafeInteger(d.size))
        seen.set(d.digest, d as unknown as Descriptor);
    }
    await this.#keep(root, digest, bytes);
    return { digest, mediaType, bytes };
  }

  /** Stores verified small content under `ipfs/<root>`, which anyone may pull, and imports it. */
  async #keep(root: CID, digest: string, bytes: Uint8Array): Promise<void> {
    if (!(await this.#deps.blobs.stat(digest))) await this.#deps.blobs.putBlob(digest, bytes);
    await this.#deps.meta.linkBlob(`ipfs/${root}`, digest, bytes.byteLength);
    // Linked first, looked at second (as a push does): a GC sweep may have taken an old file.
    if (!(await this.#deps.blobs.stat(digest))) await this.#deps.blobs.putBlob(digest, bytes);
    await this.#deps.ipfs.cidOf(digest);
  }

  async #cidFor(descriptor: Descriptor, signal?: AbortSignal): Promise<CID | undefined> {
    for (const url of descriptor.urls ?? []) {
      if (url.startsWith("ipfs://")) {
        try {
          return CID.parse(url.slice(7));
        } catch {
          // not a CID: try the other ways
        }
      }
    }
    const indexed = await this.#deps.ipfs.index.rootOf(descriptor.digest);
    if (indexed) return indexed;
    if (descriptor.size <= chunkSize && descriptor.digest.startsWith("sha256:")) {
      return cidFromSha256Digest(descriptor.digest);
    }
    return this.#deps.ipfs.node.lookupDigest(descriptor.digest, { signal });
  }

  async #small(descriptor: Descriptor, signal?: AbortSignal): Promise<Uint8Array> {
    if (descriptor.size > maxManifestBytes) throw new ManifestInvalidError("manifest too large");
    const local = await this.#localBytes(descriptor.digest);
    if (local) return local;
    const cid = await this.#cidFor(descriptor, signal);
    if (!cid) throw new ManifestUnknownError(descriptor.digest);
    const bytes = await this.#fetchSmall(cid, signal);
    if (digestOf(bytes) !== descriptor.digest)
      throw new ManifestInvalidError("fetched manifest does not match its digest");
    return bytes;
  }

  /** Bytes held here that anyone may pull; content of private repositories reads as absent. */
  async #localBytes(digest: string): Promise<Uint8Array | undefined> {
    if (!(await this.#deps.blobs.stat(digest))) return undefined;
    if (!(await this.#deps.ipfs.isShared(digest))) return undefined;
    return buffer(await this.#deps.blobs.open(digest));
  }

  async #fetchSmall(cid: CID, signal?: AbortSignal): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      for await (const chunk of this.#deps.ipfs.node.fetch(cid, { signal })) {
        total += chunk.length;
        if (total > maxManifestBytes)
          throw new ManifestInvalidError("the CID names more than a manifest");
        chunks.push(chunk);
      }
    } catch (error) {
      if (error instanceof OciError) throw error;
      this.#deps.log.info(
        { cid: cid.toString(), err: String(error) },
        "could not fetch from peers",
      );
      throw new ManifestUnknownError(cid.toString(), "not available here or from peers");
    }
    return Buffer.concat(chunks);
  }
}

function parseJson(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(Buffer.from(bytes).toString("utf8"));
    return value && typeof value === "object" && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function asArray(value: unknown): Array<Record<string, unknown>> {
  return Array.isArray(value) ? value : [];
}

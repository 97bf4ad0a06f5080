/**
 * Fetching a mirrored manifest and keeping it: from IPFS when a CID is known, else from the
 * origin's registry; checked against the claimed digest and size, parsed like a push, an index's
 * child manifests first. Blobs are not fetched here: the stored manifest refers to them, and the
 * registry fetches them from its blob sources on the first pull (or the mirror does, eagerly).
 */
import type { Logger } from "../log/index.ts";
import type { MetaStore } from "../meta/index.ts";
import {
  type Descriptor,
  digestOf,
  isDigestReference,
  type ManifestService,
  OciError,
  type ParsedManifest,
  parseDigest,
  parseManifest,
} from "../registry/index.ts";
import type { OriginClient } from "./origin-client.ts";

/** Bytes of a manifest by its UnixFS CID (from IPFS peers), or undefined when not to be had. */
export type CidFetcher = (
  cid: string,
  options: { maxBytes: number; signal?: AbortSignal },
) => Promise<Uint8Array | undefined>;

export interface ManifestImportDeps {
  origin: OriginClient;
  manifests: Pick<ManifestService, "putVerified">;
  meta: Pick<MetaStore, "getManifest">;
  fetchByCid?: CidFetcher;
  log: Logger;
}

/** Where a mirrored repository lives here and on its origin. */
export interface ImportTarget {
  localName: string;
  registry: URL;
  name: string;
}

/** What is expected of the manifest: from a signed claim, an index's descriptor, or nothing (sync). */
export interface Expected {
  digest?: string;
  size?: number;
  mediaType?: string;
  cid?: string;
}

export type ImportResult =
  | { ok: true; digest: string; blobs: Descriptor[]; manifests: number }
  | { ok: false; reason: string };

const maxChildren = 1000;
const maxDepth = 2;
/** Manifests one import may fetch in all: nested indexes must not multiply a single claim. */
const maxManifestsPerImport = 1000;

export class ManifestImporter {
  readonly #deps: ManifestImportDeps;
  readonly #maxBytes: number;

  constructor(deps: ManifestImportDeps, options: { maxManifestBytes: number }) {
    this.#deps = deps;
    this.#maxBytes = options.maxManifestBytes;
  }

  /** Fetches, verifies and stores the manifest `reference` (a digest, or a tag on a sync). */
  async import(
    target: ImportTarget,
    reference: string,
    expected: Expected,
    options: { tag?: string; signal?: AbortSignal } = {},
  ): Promise<ImportResult> {
    return this.#import(target, reference, expected, options, 0, { left: maxManifestsPerImport });
  }

  async #import(
    target: ImportTarget,
    reference: string,
    expected: Expected,
    options: { tag?: string; signal?: AbortSignal },
    depth: number,
    budget: { left: number },
  ): Promise<ImportResult> {
    if (--budget.left < 0)
      return fail(`the image has more than ${maxManifestsPerImport} manifests`);
    if (expected.size !== undefined && expected.size > this.#maxBytes)
      return fail(`the manifest is ${expected.size} bytes, over the limit of ${this.#maxBytes}`);
    const fetched = await this.#fetch(target, reference, expected, options.signal);
    if (!fetched.ok) return fetched;
    const { bytes } = fetched;
    const algorithm = expected.digest ? parseDigest(expected.digest).algorithm : "sha256";
    const digest = digestOf(bytes, algorithm);
    const wanted = expected.digest ?? (isDigestReference(reference) ? reference : undefined);
    if (wanted && wanted !== digest)
      return fail(`the manifest's bytes hash to ${digest}, not ${wanted}`);
    if (expected.size !== undefined && expected.size !== bytes.byteLength)
      return fail(`the manifest is ${bytes.byteLength} bytes, not the ${expected.size} claimed`);
    let parsed: ParsedManifest;
    try {
      parsed = parseManifest(bytes, expected.mediaType ?? fetched.contentType);
    } catch (error) {
      if (error instanceof OciError) return fail(`invalid manifest: ${error.message}`);
      throw error;
    }
    if (expected.mediaType && parsed.mediaType !== expected.mediaType)
      return fail(`the manifest is ${parsed.mediaType}, not the ${expected.mediaType} claimed`);

    const blobs = [...parsed.blobs];
    let manifests = 1;
    if (parsed.manifests.length > maxChildren)
      return fail(`an index of ${parsed.manifests.length} manifests is more than ${maxChildren}`);
    for (const child of parsed.manifests) {
      if (await this.#deps.meta.getManifest(target.localName, child.digest)) continue;
      if (depth >= maxDepth) return fail("indexes nested deeper than the mirror follows");
      const got = await this.#import(
        target,
        child.digest,
        { digest: child.digest, size: child.size, mediaType: child.mediaType },
        { signal: options.signal },
        depth + 1,
        budget,
      );
      if (!got.ok) return fail(`child manifest ${child.digest}: ${got.reason}`);
      blobs.push(...got.blobs);
      manifests += got.manifests;
    }
    // As a push would, without requiring its blobs to be here yet.
    await this.#deps.manifests.putVerified(target.localName, digest, bytes, parsed, options.tag);
    return { ok: true, digest, blobs, manifests };
  }

  async #fetch(
    target: ImportTarget,
    reference: string,
    expected: Expected,
    signal?: AbortSignal,
  ): Promise<
    { ok: true; bytes: Uint8Array; contentType?: string } | { ok: false; reason: string }
  > {
    if (expected.cid && this.#deps.fetchByCid) {
      try {
        const bytes = await this.#deps.fetchByCid(expected.cid, {
          maxBytes: this.#maxBytes,
          signal,
        });
        // Bytes from peers are checked like any others; wrong ones fall through to the origin.
        if (bytes && (!expected.digest || digestOf(bytes) === expected.digest))
          return { ok: true, bytes };
      } catch (error) {
        this.#deps.log.debug(
          { cid: expected.cid, err: String(error) },
          "manifest not fetched over IPFS",
        );
      }
    }
    const got = await this.#deps.origin.manifest(target.registry, target.name, reference, {
      maxBytes: this.#maxBytes,
      signal,
    });
    if (!got.ok)
      return fail(
        got.reason.replace(
          /^too-large: .*/,
          `the manifest is over the limit of ${this.#maxBytes} bytes`,
        ),
      );
    return got;
  }
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

/**
 * The origin as a blob source: for a mirrored repository, the registry asks here for a blob it
 * lacks, and gets the origin's bytes (unverified; the registry checks the digest while storing).
 */
import type { Logger } from "../log/index.ts";
import type { BlobSource, BlobSourceRequest, BlobSourceStream } from "../registry/blob-sources.ts";
import type { OriginClient } from "./origin-client.ts";
import type { SqliteMirrorStore } from "./store.ts";

export class OriginBlobSource implements BlobSource {
  readonly name = "origin";
  readonly #deps: { store: SqliteMirrorStore; origin: OriginClient; log: Logger };

  constructor(deps: { store: SqliteMirrorStore; origin: OriginClient; log: Logger }) {
    this.#deps = deps;
  }

  async open(
    request: BlobSourceRequest,
    options: { signal?: AbortSignal } = {},
  ): Promise<BlobSourceStream | undefined> {
    // Only mirrors have an origin; for any other repository this source has nothing.
    const tracked = this.#deps.store.byLocalName(request.repository);
    if (!tracked) return undefined;
    const got = await this.#deps.origin.blob(
      new URL(tracked.registryUrl),
      tracked.name,
      request.digest,
      {
        size: request.size,
        signal: options.signal,
      },
    );
    if (!got.ok) {
      this.#deps.log.info(
        { repository: request.repository, digest: request.digest, reason: got.reason },
        "blob not fetched from the origin",
      );
      return undefined;
    }
    return { stream: got.stream.body, size: got.stream.contentLength };
  }
}

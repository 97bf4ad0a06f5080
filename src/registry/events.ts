/** Registry events: the one seam extensions (IPFS, federation, mirrors, webhooks) hang off. */
import { EventEmitter } from "node:events";

export interface RegistryEventMap {
  "blob.committed": { repository: string; digest: string; size: number };
  "blob.deleted": { repository: string; digest: string };
  "manifest.pushed": {
    repository: string;
    digest: string;
    mediaType: string;
    size: number;
    tag?: string;
    /** The digest the tag pointed at before, when the push moved a tag. */
    previousDigest?: string;
    subject?: string;
  };
  "manifest.deleted": { repository: string; digest: string; tags: string[] };
  "tag.deleted": { repository: string; tag: string; digest: string };
  /** GC removed a blob's bytes (and its metadata): indexes of those bytes (IPFS) must go. */
  "blob.purged": { digest: string };
}

export type RegistryEventName = keyof RegistryEventMap;

/** A typed EventEmitter; a failing listener is logged by the emitter's owner, never rethrown. */
export class RegistryEvents {
  readonly #emitter = new EventEmitter();
  readonly #onError: (error: unknown, event: string) => void;

  constructor(onError: (error: unknown, event: string) => void = () => {}) {
    this.#onError = onError;
  }

  on<K extends RegistryEventName>(
    event: K,
    listener: (payload: RegistryEventMap[K]) => void | Promise<void>,
  ): () => void {
    const wrapped = (payload: RegistryEventMap[K]) => {
      try {
        const result = listener(payload);
        if (result instanceof Promise) result.catch((error) => this.#onError(error, event));
      } catch (error) {
        this.#onError(error, event);
      }
    };
    this.#emitter.on(event, wrapped);
    return () => this.#emitter.off(event, wrapped);
  }

  emit<K extends RegistryEventName>(event: K, payload: RegistryEventMap[K]): void {
    this.#emitter.emit(event, payload);
  }
}

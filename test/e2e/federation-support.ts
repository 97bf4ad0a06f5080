/** Shared by the federation end-to-end tests: instances on loopback, pushes, polling. */

import { type Instance, type InstanceOptions, startInstance } from "../helpers/instance.ts";
import { buildImage } from "../helpers/oci-layout.ts";

/** An instance that may talk to other instances on loopback (tests only), IPFS off. */
export function startFederated(options: InstanceOptions = {}): Promise<Instance> {
  return startInstance({
    ...options,
    env: {
      FLOTILLA_OUTBOUND_ALLOW_PRIVATE_ADDRESSES: "true",
      FLOTILLA_IPFS_ENABLED: "false",
      ...options.env,
    },
  });
}

/** Pushes a small image (distinct per seed) as `<repository>:<tag>`; returns its digest. */
export async function pushImage(
  base: string,
  repository: string,
  tag: string,
  seed = tag,
  headers: Record<string, string> = {},
): Promise<string> {
  const image = buildImage({ layers: [[{ path: "seed.txt", content: `${seed}\n` }]] });
  for (const blob of image.blobs) {
    const res = await fetch(`${base}/v2/${repository}/blobs/uploads/?digest=${blob.digest}`, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/octet-stream" },
      body: blob.data,
    });
    if (res.status !== 201) throw new Error(`blob upload: ${res.status} ${await res.text()}`);
  }
  const res = await fetch(`${base}/v2/${repository}/manifests/${tag}`, {
    method: "PUT",
    headers: { ...headers, "Content-Type": image.manifest.mediaType },
    body: image.manifest.data,
  });
  if (res.status !== 201) throw new Error(`manifest push: ${res.status} ${await res.text()}`);
  return image.manifest.digest;
}

/** Polls until `check` returns a value other than undefined/false, or fails after `ms`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** GETs an ActivityPub document. */
export async function getAp(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, { headers: { Accept: "application/activity+json" } });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

/** The first page's items of an ActivityPub collection. */
export async function collectionItems(url: string): Promise<unknown[]> {
  const collection = await getAp(url);
  const first = collection.first;
  const page =
    typeof first === "string" ? await getAp(first) : (first as Record<string, unknown> | undefined);
  const items =
    page?.orderedItems ?? page?.items ?? collection.orderedItems ?? collection.items ?? [];
  // Compacted JSON-LD writes a single item without the array.
  return Array.isArray(items) ? items : [items];
}

/** Sends a JSON API request as the administrator (no credentials when auth is off). */
export async function api(
  instance: Instance,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  return fetch(`${instance.url}${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/**
 * IPFS through the registry API: pull by CID (`<host>/ipfs/<cid>`, the layout nerdctl uses) and
 * the CID of any tag or digest (`/v2/<name>/_flotilla/cid/<reference>`).
 */
import type { CidContent, IpfsExtension } from "../../ipfs/index.ts";
import { checkName, type Registry } from "../../registry/index.ts";
import type { HttpApp, HttpContext } from "../types.ts";
import { blobOpenMode, sendBlob } from "./blobs.ts";
import { sendManifest } from "./manifests.ts";
import { repositoryFor } from "./repository.ts";

export interface IpfsRouteDeps {
  registry: Registry;
  ipfs: IpfsExtension;
  content: CidContent;
}

export function registerIpfsRoutes(app: HttpApp, deps: IpfsRouteDeps): void {
  const { content, registry } = deps;

  /** `ipfs/<cid>`, validated and authorized for pulling (anyone may). */
  const contentRepository = async (c: HttpContext) => {
    const name = checkName(`ipfs/${c.req.param("cid")}`);
    await c.get("access").require(name, "pull");
    return { name, root: content.parseRoot(c.req.param("cid") ?? "") };
  };

  app.get("/v2/ipfs/:cid/manifests/:reference", async (c) => {
    const { root } = await contentRepository(c);
    const manifest = await content.manifest(root, c.req.param("reference"), c.req.raw.signal);
    return sendManifest(c, manifest);
  });

  app.get("/v2/ipfs/:cid/blobs/:digest", async (c) => {
    const { name, root } = await contentRepository(c);
    const body = await content.blob(root, name, c.req.param("digest"), {
      signal: c.req.raw.signal,
      mode: blobOpenMode(c),
    });
    return sendBlob(c, body);
  });

  // This instance's IPFS node: what peers dial (FLOTILLA_PEERS of other instances) and who is on.
  app.get("/api/v1/ipfs", (c) =>
    c.json({
      peerId: deps.ipfs.node.peerId,
      addresses: deps.ipfs.node.multiaddrs(),
      peers: deps.ipfs.node.peers(),
    }),
  );

  app.get("/v2/:name{.+}/_flotilla/cid/:reference", async (c) => {
    const name = await repositoryFor(c, "pull");
    const manifest = await registry.manifests.get(name, c.req.param("reference"));
    const json = JSON.parse(Buffer.from(manifest.bytes).toString("utf8"));
    const children = [json.config, ...(json.layers ?? []), ...(json.manifests ?? [])].filter(
      Boolean,
    );
    const cidOf = async (digest: string) => (await deps.ipfs.cidOf(digest))?.toString() ?? null;
    return c.json({
      repository: name,
      reference: c.req.param("reference"),
      digest: manifest.digest,
      mediaType: manifest.mediaType,
      cid: await cidOf(manifest.digest),
      references: await Promise.all(
        children.map(async (d: { digest: string; size: number; mediaType: string }) => ({
          digest: d.digest,
          size: d.size,
          mediaType: d.mediaType,
          cid: await cidOf(d.digest),
        })),
      ),
    });
  });
}

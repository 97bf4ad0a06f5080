/** `flotilla ipfs`: CIDs of tags and digests, the node's peers, pinning images by CID. */
import { type Command, Option } from "commander";
import { CID } from "multiformats/cid";
import { SqliteCidIndex } from "../ipfs/sqlite-cid-index.ts";
import { SqliteMetaStore } from "../meta/index.ts";
import { checkName, isDigestReference } from "../registry/index.ts";
import { openContext, operatorAuthorization, printRows, UsageError } from "./context.ts";
import { progressBar } from "./progress.ts";

export function registerIpfsCommands(program: Command): void {
  const json = new Option("--json", "print JSON for scripts");
  const ipfs = program.command("ipfs").description("the embedded IPFS node");

  ipfs
    .command("cid <image>")
    .description("CIDs of an image and its blobs: <repository>:<tag> or <repository>@<digest>")
    .addOption(json)
    .action(async (image: string, o: { json?: boolean }) => {
      const context = openContext(program.opts().config);
      try {
        const { repository, reference } = splitImage(image, new URL(context.config.publicUrl).host);
        const meta = new SqliteMetaStore({ database: context.database });
        const index = new SqliteCidIndex(context.database);
        const digest = isDigestReference(reference)
          ? reference
          : await meta.resolveTag(repository, reference);
        if (!digest || !(await meta.getManifest(repository, digest)))
          throw new UsageError(`no image ${image}`);
        const cid = await index.rootOf(digest);
        if (!cid)
          throw new UsageError(
            `${image} is not imported into IPFS yet (is the instance running with IPFS on?)`,
          );
        printRows(
          [
            {
              digest,
              cid: cid.toString(),
              pull: `${new URL(context.config.publicUrl).host}/ipfs/${cid}`,
            },
          ],
          Boolean(o.json),
        );
      } finally {
        context.close();
      }
    });

  registerUnpin(ipfs, () => program.opts().config);

  ipfs
    .command("peers")
    .description("the running instance's IPFS peer id, addresses and connected peers")
    .addOption(json)
    .action(async (o: { json?: boolean }) => {
      const info = await instanceJson(program.opts().config, "/api/v1/ipfs");
      if (o.json) {
        process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
        return;
      }
      process.stdout.write(`peer id: ${info.peerId}\naddresses:\n`);
      for (const a of info.addresses as string[]) process.stdout.write(`  ${a}\n`);
      process.stdout.write(`connected peers (${(info.peers as string[]).length}):\n`);
      for (const p of info.peers as string[]) process.stdout.write(`  ${p}\n`);
    });

  ipfs
    .command("pin <cid>")
    .description("fetch the image a CID names from peers and keep it here (as ipfs/<cid>)")
    .addOption(json)
    .action(async (cid: string, o: { json?: boolean }) => {
      try {
        CID.parse(cid);
      } catch {
        throw new UsageError(`${cid} is not a CID (bafy…, bafkrei… or Qm…)`);
      }
      const context = openContext(program.opts().config);
      const repository = checkName(`ipfs/${cid}`);
      let result: Awaited<ReturnType<typeof pinImage>>;
      try {
        // A token lasts five minutes and a large pin may take longer: signed again after one.
        const access = [{ type: "repository" as const, name: repository, actions: ["pull"] }];
        let token: { value: string | undefined; until: number } | undefined;
        const authorize = async () => {
          if (!token || Date.now() > token.until) {
            const value = await operatorAuthorization(context, access);
            token = { value, until: Date.now() + 60_000 };
          }
          return token.value;
        };
        result = await pinImage(context.config.publicUrl, repository, authorize);
      } finally {
        context.close();
      }
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ cid, ...result }, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `pinned ${cid}: ${result.blobs} blob(s), ${result.bytes} bytes, kept as ${result.repository}\n`,
      );
    });
}

function registerUnpin(ipfs: Command, configFile: () => string | undefined): void {
  ipfs
    .command("unpin <cid>")
    .description(
      "stop keeping an image pinned by CID (its bytes go at the next garbage collection)",
    )
    .action(async (cid: string) => {
      const context = openContext(configFile());
      try {
        const repository = checkName(`ipfs/${cid}`);
        const meta = new SqliteMetaStore({ database: context.database });
        if (!(await meta.deleteRepository(repository)))
          throw new UsageError(`${cid} is not pinned here`);
        process.stdout.write(`unpinned ${cid}\n`);
      } finally {
        context.close();
      }
    });
}

/** `[<this host>/]<repository>[:<tag>|@<digest>]`: the image reference people copy from pulls. */
function splitImage(reference: string, ownHost: string): { repository: string; reference: string } {
  const slash = reference.indexOf("/");
  const first = slash > 0 ? reference.slice(0, slash) : "";
  let image = reference;
  if (first === ownHost) image = reference.slice(slash + 1);
  else if (first.includes(":") || first === "localhost")
    throw new UsageError(`${reference} names an image on ${first}; this instance is ${ownHost}`);
  const at = image.indexOf("@");
  if (at > 0) return { repository: checkName(image.slice(0, at)), reference: image.slice(at + 1) };
  const colon = image.lastIndexOf(":");
  if (colon > 0 && !image.slice(colon).includes("/")) {
    return { repository: checkName(image.slice(0, colon)), reference: image.slice(colon + 1) };
  }
  return { repository: checkName(image), reference: "latest" };
}

async function instanceJson(
  configFile: string | undefined,
  path: string,
): Promise<Record<string, unknown>> {
  const context = openContext(configFile);
  const url = `${context.config.publicUrl}${path}`;
  context.close();
  try {
    const res = await fetch(url);
    if (!res.ok) throw new UsageError(`${url} answered ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot reach the instance at ${url}: is it running?`);
  }
}

interface Descriptor {
  digest: string;
  size: number;
}

/**
 * Pulls every manifest and blob of `ipfs/<cid>` through the running instance, which fetches what
 * it lacks from peers, verifies it and keeps it. Blobs are downloaded (not just HEADed) so the
 * command ends only when every byte is stored and checked.
 */
async function pinImage(
  base: string,
  repository: string,
  authorize: () => Promise<string | undefined>,
): Promise<{ repository: string; manifests: number; blobs: number; bytes: number }> {
  const get = async (path: string, extra: Record<string, string> = {}) => {
    const authorization = await authorize();
    const headers = authorization ? { ...extra, authorization } : extra;
    try {
      return await fetch(`${base}${path}`, { headers });
    } catch {
      throw new UsageError(`cannot reach the instance at ${base}: is it running?`);
    }
  };
  const accept = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
  ].join(", ");
  const blobs = new Map<string, Descriptor>();
  let manifests = 0;
  const walk = async (reference: string): Promise<void> => {
    const res = await get(`/v2/${repository}/manifests/${reference}`, { accept });
    if (!res.ok)
      throw new UsageError(
        `cannot fetch ${repository}:${reference}: HTTP ${res.status} ${await res.text()}`,
      );
    manifests++;
    const manifest = (await res.json()) as {
      manifests?: Descriptor[];
      config?: Descriptor;
      layers?: Descriptor[];
    };
    for (const child of manifest.manifests ?? []) await walk(child.digest);
    for (const blob of [manifest.config, ...(manifest.layers ?? [])])
      if (blob) blobs.set(blob.digest, blob);
  };
  await walk("latest");
  const total = [...blobs.values()].reduce((sum, b) => sum + b.size, 0);
  const progress = progressBar("{phase} [{bar}] {value}/{total} bytes");
  let done = 0;
  for (const blob of blobs.values()) {
    const res = await get(`/v2/${repository}/blobs/${blob.digest}`);
    if (!res.ok || !res.body)
      throw new UsageError(`cannot fetch blob ${blob.digest}: HTTP ${res.status}`);
    // A body cut short means the instance refused the bytes (wrong digest): fetch throws.
    for await (const chunk of res.body) {
      done += chunk.byteLength;
      progress?.({ phase: "pinning", done, total });
    }
  }
  progress?.({ phase: "pinning", done: total, total });
  return { repository, manifests, blobs: blobs.size, bytes: done };
}

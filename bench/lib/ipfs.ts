/**
 * What the embedded IPFS node costs and gives (issue 4, "Benchmark"), on three Flotilla processes:
 *
 * - `on` (IPFS enabled, the default) and `off` (FLOTILLA_IPFS_ENABLED=false) get the same curl
 *   upload and skopeo push; the ratio on/off is the push throughput kept with IPFS on. After the
 *   upload a manifest referencing the blob is pushed and `_flotilla/cid` asked until the blob's CID
 *   is there: the background import's latency and CPU.
 * - Disk overhead of IPFS on `on`: bytes under `<dataDir>/ipfs` plus the pages of the `ipfs_*`
 *   tables and indexes in meta.db (SQLite `dbstat`, WAL included), relative to blob bytes.
 * - `peer` is peered with `on` (FLOTILLA_PEERS). A layer pushed to `on` is pulled by CID from
 *   `peer` (a CAR stream from `on`'s gateway, blocks verified, streamed to the client while hashed
 *   and stored), against a plain HTTP GET of the same blob from `on`,
 *   with the peak RSS of both sides during the peer pull.
 */
import { lstat, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { type Instance, startInstance } from "../../test/helpers/instance.ts";
import { type CurlResult, curl, describe, sha256File, upload } from "./http.ts";
import { type Layout, MiB, writeLayout, writeRandomFile } from "./layout.ts";
import { cpuSeconds, memory, resetPeak, run, sampleRss, track, waitIdle } from "./proc.ts";
import { cell, format, median, pad } from "./report.ts";

type Sample = Record<string, number>;

export interface IpfsBenchOptions {
  /** Where instances keep their data and test content is written. */
  root: string;
  /** Blob / layer size of the push comparison (full: 512 MiB). */
  pushBytes: number;
  /** Layer size pulled from a peer (full: 256 MiB). */
  peerBytes: number;
  /** Upload and push rounds per run (median counts), each with fresh content. */
  pushReps: number;
  /** curl GETs per run for the HTTP baseline (median counts). */
  getsPerRun: number;
  log(message: string): void;
  stopping(): boolean;
}

export interface IpfsError {
  registry: string;
  run: number;
  phase: string;
  error: string;
}

export interface IpfsBench {
  /** One run of every measurement with fresh random content. */
  run(runIndex: number): Promise<Sample>;
  errors: IpfsError[];
  stop(): Promise<void>;
}

interface Node {
  name: "on" | "off" | "peer";
  instance: Instance;
  pid: number;
}

const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const ACCEPT = `${MANIFEST}, application/vnd.oci.image.index.v1+json`;

interface CidAnswer {
  digest: string;
  cid: string | null;
  references: { digest: string; size: number; cid: string | null }[];
}

async function start(name: Node["name"], dir: string, env: Record<string, string>): Promise<Node> {
  const dataDir = join(dir, "data");
  await mkdir(dataDir, { recursive: true });
  const instance = await startInstance({ dataDir, env });
  track(instance.process);
  return { name, instance, pid: instance.process.pid ?? 0 };
}

/** The node's libp2p loopback address, as FLOTILLA_PEERS of another instance takes it. */
async function ipfsInfo(
  node: Node,
): Promise<{ peerId: string; addresses: string[]; peers: string[] }> {
  const url = `${node.instance.url}/api/v1/ipfs`;
  const res = await fetch(url);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url} -> ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

/** Bytes of all files under `dir`: apparent size and allocated blocks (as du counts). */
async function treeBytes(
  dir: string,
): Promise<{ bytes: number; allocated: number; files: number }> {
  let bytes = 0;
  let allocated = 0;
  let files = 0;
  let entries: string[];
  try {
    entries = await readdir(dir, { recursive: true });
  } catch {
    return { bytes, allocated, files };
  }
  for (const entry of entries) {
    const info = await lstat(join(dir, entry)).catch(() => undefined);
    if (!info?.isFile()) continue;
    bytes += info.size;
    allocated += info.blocks * 512;
    files++;
  }
  return { bytes, allocated, files };
}

async function fileSize(path: string): Promise<number> {
  return (await lstat(path).catch(() => undefined))?.size ?? 0;
}

/** Pages used by the IPFS tables and their indexes (read-only, sees the WAL's content too). */
function ipfsTableBytes(dbPath: string): { bytes: number; rows: Record<string, number> } {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const stat = db
      .prepare(
        `SELECT SUM(pgsize) AS bytes FROM dbstat WHERE name IN
           (SELECT name FROM sqlite_schema WHERE tbl_name LIKE 'ipfs\\_%' ESCAPE '\\')`,
      )
      .get() as { bytes: number | null };
    const rows: Record<string, number> = {};
    for (const table of ["ipfs_roots", "ipfs_leaves", "ipfs_nodes"]) {
      const row = db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number };
      rows[table] = Number(row.n);
    }
    return { bytes: Number(stat.bytes ?? 0), rows };
  } finally {
    db.close();
  }
}

export async function startIpfsBench(options: IpfsBenchOptions): Promise<IpfsBench> {
  const { root, log } = options;
  const errors: IpfsError[] = [];
  const nodes: Node[] = [];
  const mb = (bytes: number) => bytes / 1e6;
  const loopback = { FLOTILLA_IPFS_LISTEN: "/ip4/127.0.0.1/tcp/0" };

  const stop = async () => {
    await Promise.allSettled(nodes.map((n) => n.instance.dispose()));
  };

  try {
    nodes.push(await start("on", join(root, "ipfs-on"), loopback));
    nodes.push(await start("off", join(root, "ipfs-off"), { FLOTILLA_IPFS_ENABLED: "false" }));
  } catch (error) {
    await stop();
    throw error;
  }
  const [on, off] = nodes as [Node, Node];
  let peer: Node;
  let onPeerId: string;
  try {
    const info = await ipfsInfo(on);
    onPeerId = info.peerId;
    const address = info.addresses.find((a) => a.startsWith("/ip4/127.0.0.1/"));
    if (!address) throw new Error(`no loopback address in ${JSON.stringify(info)}`);
    peer = await start("peer", join(root, "ipfs-peer"), { ...loopback, FLOTILLA_PEERS: address });
    nodes.push(peer);
    // The peer dials its configured peers at start; wait until the connection is up.
    const deadline = Date.now() + 30_000;
    while (!(await ipfsInfo(peer)).peers.includes(onPeerId)) {
      if (Date.now() > deadline) throw new Error(`peer did not connect to ${address} within 30 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
    for (const n of nodes) await waitIdle(n.pid, 30);
    log(
      `ipfs: on ${on.instance.url} (pid ${on.pid}), off ${off.instance.url} (pid ${off.pid}), peer ${peer.instance.url} (pid ${peer.pid}) peered with ${address}`,
    );
  } catch (error) {
    await stop();
    throw error;
  }

  const allIdle = async () => {
    for (const n of nodes) await waitIdle(n.pid);
  };

  /** Runs one step; failures are recorded (with the server's output) and the run goes on. */
  const step = async (
    node: Node,
    runIndex: number,
    name: string,
    body: () => Promise<void>,
  ): Promise<boolean> => {
    if (options.stopping()) throw new Error("interrupted");
    try {
      await body();
      return true;
    } catch (error) {
      if (options.stopping()) throw new Error("interrupted");
      const message = error instanceof Error ? error.message : String(error);
      errors.push({
        registry: `flotilla-ipfs-${node.name}`,
        run: runIndex,
        phase: name,
        error: message,
      });
      log(`ipfs ${node.name} ${name} FAILED: ${message.slice(0, 2000)}`);
      for (const n of nodes) {
        const tail = n.instance.output().slice(-1500).trim();
        if (tail) log(`ipfs ${n.name} output (tail):\n${tail}`);
      }
      return false;
    }
  };

  const putManifest = async (node: Node, repo: string, tag: string, manifest: string) => {
    const url = `${node.instance.url}/v2/${repo}/manifests/${tag}`;
    const file = join(root, `manifest-${node.name}.json`);
    await writeFile(file, manifest);
    const res = await curl([
      "-X",
      "PUT",
      "-H",
      `Content-Type: ${MANIFEST}`,
      "--data-binary",
      `@${file}`,
      url,
    ]);
    if (res.error || res.status !== 201)
      throw new Error(`expected 201: ${describe("PUT", url, res)}`);
  };

  /**
   * Asks `_flotilla/cid/<reference>` until the CIDs of the manifest and of `digest` are known.
   * (The server answers once the import queue has reached them, so this is usually one request.)
   */
  const cidWhenReady = async (node: Node, repo: string, reference: string, digest: string) => {
    const url = `${node.instance.url}/v2/${repo}/_flotilla/cid/${reference}`;
    const deadline = Date.now() + 300_000;
    for (;;) {
      const res = await curl([url]);
      if (res.error || res.status !== 200)
        throw new Error(`expected 200: ${describe("GET", url, res)}`);
      const answer = JSON.parse(res.body) as CidAnswer;
      const ref = answer.references.find((r) => r.digest === digest);
      if (!ref) throw new Error(`${digest} not among the references: ${describe("GET", url, res)}`);
      if (answer.cid && ref.cid) return { answer, layerCid: ref.cid };
      if (Date.now() > deadline)
        throw new Error(`no CID after 300 s: ${describe("GET", url, res)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const skopeoPush = async (layout: Layout, node: Node, repo: string) => {
    const result = await run("skopeo", [
      "--insecure-policy",
      "copy",
      "--quiet",
      "--preserve-digests",
      "--dest-tls-verify=false",
      layout.ref,
      `docker://${node.instance.host}/${repo}:latest`,
    ]);
    return result.seconds;
  };

  /** curl GET of a blob into `file`; checks status, length and the sha256 of what arrived. */
  const getBlob = async (url: string, file: string, digest: string, size: number) => {
    const res: CurlResult = await curl(["-o", file, url]);
    if (res.error || res.status !== 200 || res.size !== size) {
      // The body went to the file; show an error body in the report.
      if (res.status !== 200 && res.size < 10_000)
        res.body = await readFile(file, "utf8").catch(() => "");
      throw new Error(`expected 200 with ${size} bytes: ${describe("GET", url, res)}`);
    }
    const got = await sha256File(file);
    if (got !== digest)
      throw new Error(`GET ${url} returned content with digest ${got}, expected ${digest}`);
    return res.time;
  };

  const runOnce = async (runIndex: number): Promise<Sample> => {
    const sample: Sample = {};
    const dir = join(root, `ipfs-data-${runIndex}`);
    await mkdir(dir, { recursive: true });
    try {
      // 1. Push throughput, IPFS on versus off: `pushReps` rounds, each with fresh content and
      // alternating which instance goes first; the median of the rounds is the run's sample.
      const reps: Record<string, number[]> = {};
      let thisRound: Record<string, number> = {};
      const add = (key: string, value: number) => {
        reps[key] ??= [];
        reps[key].push(value);
        thisRound[key] = value;
      };
      for (let rep = 0; rep < options.pushReps; rep++) {
        const round = `${runIndex}-${rep}`;
        thisRound = {};
        log(`ipfs run ${runIndex + 1} round ${rep + 1}: writing random content`);
        const repDir = join(dir, `push-${rep}`);
        await mkdir(repDir, { recursive: true });
        const blobFile = join(repDir, "blob");
        const blob = { file: blobFile, ...(await writeRandomFile(blobFile, options.pushBytes)) };
        const image = await writeLayout(join(repDir, "image"), [options.pushBytes]);
        const configText = JSON.stringify({
          architecture: "amd64",
          os: "linux",
          rootfs: { type: "layers", diff_ids: [blob.digest] },
          bench: `ipfs-${round}-${Date.now()}`,
        });
        const configFile = join(repDir, "config.json");
        await writeFile(configFile, configText);
        const configDigest = await sha256File(configFile);
        const blobManifest = JSON.stringify({
          schemaVersion: 2,
          mediaType: MANIFEST,
          config: {
            mediaType: "application/vnd.oci.image.config.v1+json",
            digest: configDigest,
            size: Buffer.byteLength(configText),
          },
          layers: [
            {
              mediaType: "application/vnd.oci.image.layer.v1.tar",
              digest: blob.digest,
              size: blob.size,
            },
          ],
        });

        const order = (runIndex + rep) % 2 === 0 ? [on, off] : [off, on];
        const blobRepo = `bench/ipfs-blob-${round}`;
        for (const node of order) {
          await allIdle();
          log(`ipfs ${node.name}: curl upload ${options.pushBytes / MiB} MiB`);
          await step(node, runIndex, "upload", async () => {
            const cpuBefore = await cpuSeconds(node.pid);
            const { post, put } = await upload(node.instance, blobRepo, blob.file, blob.digest);
            const committed = performance.now();
            const cpuCommitted = await cpuSeconds(node.pid);
            add(`upload.${node.name}`, mb(blob.size) / (post + put));
            add(`cpu.upload.${node.name}`, cpuCommitted - cpuBefore);
            await upload(node.instance, blobRepo, configFile, configDigest);
            await putManifest(node, blobRepo, "latest", blobManifest);
            if (node.name === "on") {
              await cidWhenReady(node, blobRepo, "latest", blob.digest);
              const seconds = (performance.now() - committed) / 1000;
              add("cidAfterUpload", seconds);
              add("importRate", mb(blob.size) / seconds);
            }
            await waitIdle(node.pid);
            add(`background.upload.${node.name}`, (await cpuSeconds(node.pid)) - cpuCommitted);
          });
        }
        /** on/off of this round's back-to-back pair, so that > 1 favours on. */
        const pair = (key: "upload" | "push") => {
          const a = thisRound[`${key}.on`];
          const b = thisRound[`${key}.off`];
          if (a !== undefined && b !== undefined && a > 0 && b > 0)
            add(`pair.${key}`, key === "push" ? b / a : a / b);
        };
        pair("upload");
        const imageRepo = `bench/ipfs-image-${round}`;
        for (const node of order) {
          await allIdle();
          log(`ipfs ${node.name}: skopeo push ${options.pushBytes / MiB} MiB (1 layer)`);
          await step(node, runIndex, "push", async () => {
            const cpuBefore = await cpuSeconds(node.pid);
            add(`push.${node.name}`, await skopeoPush(image, node, imageRepo));
            const pushed = performance.now();
            const cpuPushed = await cpuSeconds(node.pid);
            add(`cpu.push.${node.name}`, cpuPushed - cpuBefore);
            if (node.name === "on") {
              const layer = image.layers[0]?.digest ?? "";
              const { answer } = await cidWhenReady(node, imageRepo, "latest", layer);
              if (answer.digest !== image.manifestDigest)
                throw new Error(
                  `_flotilla/cid answered manifest ${answer.digest}, pushed ${image.manifestDigest}`,
                );
              add("cidAfterPush", (performance.now() - pushed) / 1000);
            }
            await waitIdle(node.pid);
            add(`background.push.${node.name}`, (await cpuSeconds(node.pid)) - cpuPushed);
          });
        }
        pair("push");
        await rm(repDir, { recursive: true, force: true });
      }
      for (const [key, values] of Object.entries(reps)) {
        const m = median(values);
        if (m !== undefined) sample[key] = m;
      }

      // 2. Disk overhead of IPFS on the instance that has it (the off one had the same pushes).
      await allIdle();
      await step(on, runIndex, "disk", async () => {
        const ipfsDir = await treeBytes(join(on.instance.dataDir, "ipfs"));
        const blobs = await treeBytes(join(on.instance.dataDir, "blobs"));
        const tables = ipfsTableBytes(join(on.instance.dataDir, "meta.db"));
        const metaFiles = async (n: Node) =>
          (await fileSize(join(n.instance.dataDir, "meta.db"))) +
          (await fileSize(join(n.instance.dataDir, "meta.db-wal")));
        sample.ipfsDirBytes = ipfsDir.allocated;
        sample.ipfsDirApparent = ipfsDir.bytes;
        sample.ipfsDirFiles = ipfsDir.files;
        sample.ipfsTableBytes = tables.bytes;
        sample.ipfsLeaves = tables.rows.ipfs_leaves ?? 0;
        sample.ipfsNodes = tables.rows.ipfs_nodes ?? 0;
        sample.blobBytes = blobs.bytes;
        sample["metaDb.on"] = await metaFiles(on);
        sample["metaDb.off"] = await metaFiles(off);
        sample.diskOverhead = (100 * (ipfsDir.allocated + tables.bytes)) / blobs.bytes;
        sample.diskOverheadFiles =
          (100 * (ipfsDir.allocated + Math.max(0, sample["metaDb.on"] - sample["metaDb.off"]))) /
          blobs.bytes;
      });

      // 3. Pull of a layer from a peer (by CID) versus over HTTP from the origin.
      const peerImage = await writeLayout(join(dir, "peer"), [options.peerBytes]);
      const peerRepo = `bench/ipfs-peer-${runIndex}`;
      const layer = peerImage.layers[0];
      if (!layer) throw new Error("peer image has no layer");
      let manifestCid: string | undefined;
      await allIdle();
      log(`ipfs on: skopeo push ${options.peerBytes / MiB} MiB layer for the peer pull`);
      await step(on, runIndex, "peerSetup", async () => {
        await skopeoPush(peerImage, on, peerRepo);
        const { answer } = await cidWhenReady(on, peerRepo, "latest", layer.digest);
        if (answer.digest !== peerImage.manifestDigest)
          throw new Error(
            `_flotilla/cid answered manifest ${answer.digest}, pushed ${peerImage.manifestDigest}`,
          );
        manifestCid = answer.cid ?? undefined;
      });
      if (manifestCid) {
        const out = join(dir, "pulled");
        await allIdle();
        log(`ipfs on: curl GET ${options.peerBytes / MiB} MiB over HTTP`);
        await step(on, runIndex, "httpPull", async () => {
          const url = `${on.instance.url}/v2/${peerRepo}/blobs/${layer.digest}`;
          const times: number[] = [];
          for (let i = 0; i < options.getsPerRun; i++) {
            times.push(await getBlob(url, out, layer.digest, layer.size));
            await rm(out, { force: true });
          }
          sample.httpPullSeconds = median(times) ?? 0;
          sample.httpPull = mb(layer.size) / sample.httpPullSeconds;
        });

        await step(peer, runIndex, "peerManifest", async () => {
          const url = `${peer.instance.url}/v2/ipfs/${manifestCid}/manifests/latest`;
          const file = join(dir, "manifest");
          const res = await curl(["-H", `Accept: ${ACCEPT}`, "-o", file, url]);
          if (res.error || res.status !== 200)
            throw new Error(`expected 200: ${describe("GET", url, res)}`);
          const got = await sha256File(file);
          if (got !== peerImage.manifestDigest || res.headers["docker-content-digest"] !== got)
            throw new Error(`manifest by CID has digest ${got}: ${describe("GET", url, res)}`);
        });

        await allIdle();
        log(`ipfs peer: curl GET ${options.peerBytes / MiB} MiB by CID (from on's gateway)`);
        await step(peer, runIndex, "peerPull", async () => {
          const url = `${peer.instance.url}/v2/ipfs/${manifestCid}/blobs/${layer.digest}`;
          const resetOn = await resetPeak(on.pid);
          const resetPeer = await resetPeak(peer.pid);
          const before = { on: await memory(on.pid), peer: await memory(peer.pid) };
          const cpu = { on: await cpuSeconds(on.pid), peer: await cpuSeconds(peer.pid) };
          const stopOn = sampleRss(on.pid);
          const stopPeer = sampleRss(peer.pid);
          let seconds = 0;
          let failure: unknown;
          try {
            seconds = await getBlob(url, out, layer.digest, layer.size);
          } catch (error) {
            failure = error;
          }
          const sampled = { on: await stopOn(), peer: await stopPeer() };
          const after = { on: await memory(on.pid), peer: await memory(peer.pid) };
          await rm(out, { force: true });
          if (failure) throw failure;
          sample["peakRss.on"] = mb(
            Math.max(sampled.on, resetOn ? after.on.hwm : 0, before.on.rss),
          );
          sample["peakRss.peer"] = mb(
            Math.max(sampled.peer, resetPeer ? after.peer.hwm : 0, before.peer.rss),
          );
          sample["rssBefore.on"] = mb(before.on.rss);
          sample["rssBefore.peer"] = mb(before.peer.rss);
          sample["cpu.peerPull.on"] = (await cpuSeconds(on.pid)) - cpu.on;
          sample["cpu.peerPull.peer"] = (await cpuSeconds(peer.pid)) - cpu.peer;
          sample.peerPullSeconds = seconds;
          sample.peerPull = mb(layer.size) / seconds;
          // Served again, now from the peer's own store.
          const again = await getBlob(url, out, layer.digest, layer.size);
          await rm(out, { force: true });
          sample.peerServeAgain = mb(layer.size) / again;
        });
      }
      return sample;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };

  return { run: runOnce, errors, stop };
}

interface IpfsRow {
  label: string;
  unit: string;
  a: string;
  b?: string;
  /** How `a` compares with `b`: rates a/b, times b/a, so > 1 favours `a`. */
  better?: "higher" | "lower";
  /** Ratios of back-to-back pairs (one per round); their median is the row's ratio. */
  pairs?: string;
  minRatio?: number;
  maxValue?: number;
  /** The aim rather than its bar: reported as met or not, never as a failed bar. */
  aim?: boolean;
}

/** The second table: IPFS on versus off, overhead, peer versus HTTP, with ratios and bars. */
export function renderIpfsTable(
  samples: Sample[],
  sizes: { pushBytes: number; peerBytes: number; note?: string },
): { text: string; rows: Record<string, unknown>[] } {
  const push = `${sizes.pushBytes / MiB} MiB`;
  const layer = `${sizes.peerBytes / MiB} MiB`;
  const rows: IpfsRow[] = [
    {
      label: `curl upload ${push} blob: IPFS on | off`,
      unit: "MB/s",
      a: "upload.on",
      b: "upload.off",
      better: "higher",
      pairs: "pair.upload",
      minRatio: 0.9,
    },
    {
      label: `skopeo push ${push} (1 layer): IPFS on | off`,
      unit: "s",
      a: "push.on",
      b: "push.off",
      better: "lower",
      pairs: "pair.push",
      minRatio: 0.9,
    },
    { label: `blob CID available, after upload commit`, unit: "s", a: "cidAfterUpload" },
    { label: `layer CID available, after skopeo push ends`, unit: "s", a: "cidAfterPush" },
    {
      label: `server CPU s after upload (import): on | off`,
      unit: "s",
      a: "background.upload.on",
      b: "background.upload.off",
    },
    {
      label: "IPFS disk overhead (ipfs/ + ipfs_* tables)",
      unit: "%",
      a: "diskOverhead",
      maxValue: 1,
    },
    {
      label: `pull ${layer} layer: peer by CID | HTTP origin`,
      unit: "MB/s",
      a: "peerPull",
      b: "httpPull",
      better: "higher",
      minRatio: 0.5,
      aim: true,
    },
    {
      label: `peak RSS during peer pull: peer | origin`,
      unit: "MB",
      a: "peakRss.peer",
      b: "peakRss.on",
    },
  ];
  const details: { label: string; unit: string; key: string; divide?: number }[] = [
    { label: "import rate: blob bytes / CID latency", unit: "MB/s", key: "importRate" },
    { label: "upload: server CPU s, IPFS on", unit: "s", key: "cpu.upload.on" },
    { label: "upload: server CPU s, IPFS off", unit: "s", key: "cpu.upload.off" },
    { label: "skopeo push: server CPU s after, IPFS on", unit: "s", key: "background.push.on" },
    { label: "skopeo push: server CPU s after, IPFS off", unit: "s", key: "background.push.off" },
    {
      label: "bytes under <dataDir>/ipfs (allocated)",
      unit: "KB",
      key: "ipfsDirBytes",
      divide: 1e3,
    },
    {
      label: "bytes under <dataDir>/ipfs (apparent)",
      unit: "KB",
      key: "ipfsDirApparent",
      divide: 1e3,
    },
    { label: "ipfs_* tables + indexes in meta.db", unit: "KB", key: "ipfsTableBytes", divide: 1e3 },
    { label: "rows in ipfs_leaves", unit: "", key: "ipfsLeaves" },
    { label: "rows in ipfs_nodes", unit: "", key: "ipfsNodes" },
    { label: "blob bytes on the IPFS-on instance", unit: "MB", key: "blobBytes", divide: 1e6 },
    { label: "meta.db + -wal files, IPFS on", unit: "KB", key: "metaDb.on", divide: 1e3 },
    { label: "meta.db + -wal files, IPFS off", unit: "KB", key: "metaDb.off", divide: 1e3 },
    { label: "overhead with meta.db file delta on-off", unit: "%", key: "diskOverheadFiles" },
    { label: "HTTP GET from origin", unit: "s", key: "httpPullSeconds" },
    { label: "peer pull by CID (fetch, verify, store, serve)", unit: "s", key: "peerPullSeconds" },
    { label: "peer: GET again, now local", unit: "MB/s", key: "peerServeAgain" },
    { label: "peer pull: CPU s of origin", unit: "s", key: "cpu.peerPull.on" },
    { label: "peer pull: CPU s of peer", unit: "s", key: "cpu.peerPull.peer" },
    { label: "RSS before peer pull, origin", unit: "MB", key: "rssBefore.on" },
    { label: "RSS before peer pull, peer", unit: "MB", key: "rssBefore.peer" },
  ];
  const values = (key: string) =>
    samples.map((s) => s[key]).filter((v): v is number => typeof v === "number");
  const percentCell = (vs: number[]) => {
    const m = median(vs);
    if (m === undefined) return "FAILED";
    if (vs.length < 2) return `${m.toFixed(3)} %`;
    return `${m.toFixed(3)} % (${Math.min(...vs).toFixed(3)}-${Math.max(...vs).toFixed(3)})`;
  };
  const out: Record<string, unknown>[] = [];
  const table: string[][] = [["IPFS (Flotilla)", "value", "compared with", "ratio", "bar", ""]];
  for (const row of rows) {
    const a = values(row.a);
    const b = row.b ? values(row.b) : [];
    const ma = median(a);
    const mbv = median(b);
    let ratio: number | undefined;
    if (row.pairs) ratio = median(values(row.pairs));
    else if (row.better && ma !== undefined && mbv !== undefined && ma > 0 && mbv > 0)
      ratio = row.better === "higher" ? ma / mbv : mbv / ma;
    let bar = "";
    let pass: boolean | undefined;
    if (row.maxValue !== undefined) {
      bar = `< ${row.maxValue} ${row.unit}`;
      pass = ma === undefined ? undefined : ma < row.maxValue;
    } else if (row.minRatio !== undefined) {
      bar = `${row.aim ? "aim " : ""}>= ${row.minRatio.toFixed(1)}`;
      pass = ratio === undefined ? undefined : ratio >= row.minRatio;
    }
    const unitCell = (vs: number[]) => (row.unit === "%" ? percentCell(vs) : cell(vs, row.unit));
    table.push([
      row.label,
      unitCell(a),
      row.b ? cell(b, row.unit) : "",
      ratio === undefined ? (row.better ? "n/a" : "") : `${ratio.toFixed(2)}x`,
      bar,
      pass === undefined ? "" : pass ? "ok" : row.aim ? "below aim" : "BELOW BAR",
    ]);
    out.push({ ...row, value: ma, compared: mbv, ratio, pass, runs: { a, b } });
  }
  const extra: string[][] = [["IPFS detail (median)", "value"]];
  for (const d of details) {
    const m = median(values(d.key));
    if (m === undefined) continue;
    const v = m / (d.divide ?? 1);
    extra.push([d.label, `${d.unit === "%" ? v.toFixed(3) : format(v, d.unit)} ${d.unit}`.trim()]);
    out.push({ label: d.label, key: d.key, unit: d.unit, value: m, runs: values(d.key) });
  }
  const note =
    "ratio: rates value/compared, times compared/value; > 1.0 favours the first. Cells: median (min-max) of runs.\n" +
    "on|off ratios: median over back-to-back on/off pairs (robust to load from other processes).\n" +
    "on: IPFS enabled; off: FLOTILLA_IPFS_ENABLED=false; peer: FLOTILLA_PEERS=<on>, pulls by CID (CAR from on's gateway, bitswap as fallback).";
  const more = sizes.note ? `\n${sizes.note}` : "";
  return { text: `${pad(table)}\n${note}${more}\n\n${pad(extra)}`, rows: out };
}

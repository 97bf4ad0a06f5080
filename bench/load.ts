/**
 * Load test: concurrent clients push (monolithic and chunked) distinct and shared layers, mount
 * shared ones across repositories, push manifests, and pull images back, verifying every blob's
 * sha256. The server's RSS is sampled once a second.
 *
 *   npm run load -- [--clients 100] [--seconds 180] [--short] [--url http://host:port] [--json f]
 *
 * `--short` is 20 clients for 15 s. Without `--url` it starts its own instance (IPFS off, as the
 * registry rows of the benchmark) on a temporary data directory and removes it afterwards.
 */
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type Instance, startInstance } from "../test/helpers/instance.ts";
import { memory } from "./lib/proc.ts";

export interface LoadOptions {
  clients: number;
  seconds: number;
  /** An instance to load; without it one is started (and its RSS sampled). */
  url?: string;
  log?: (line: string) => void;
}

export interface LoadReport {
  clients: number;
  seconds: number;
  requests: number;
  failed: number;
  corruptBlobs: number;
  blobsVerified: number;
  pushes: number;
  pulls: number;
  mounts: number;
  bytesUp: number;
  bytesDown: number;
  requestsPerSecond: number;
  /** MiB/s up and down together. */
  throughputMiBs: number;
  rss: { startMiB: number; peakMiB: number; finalMiB: number; samples: number[] };
  /** The first few failures, to see what went wrong. */
  failures: string[];
}

interface Image {
  repo: string;
  tag: string;
  manifestDigest: string;
  blobs: { digest: string; size: number }[];
}

const MiB = 1024 * 1024;
const layerType = "application/vnd.oci.image.layer.v1.tar";
const manifestType = "application/vnd.oci.image.manifest.v1+json";

const sha256 = (data: Uint8Array) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/** Cheap pseudo-random bytes: a random seed block repeated with a counter, distinct per call. */
let counter = 0;
function bytes(size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  const seed = createHash("sha256").update(`${process.pid}:${counter++}:${Math.random()}`).digest();
  for (let i = 0; i < size; i += 32) seed.copy(out, i, 0, Math.min(32, size - i));
  seed.copy(out, 0, 0, Math.min(32, size));
  return out;
}

export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const log = options.log ?? (() => {});
  let instance: Instance | undefined;
  if (!options.url) {
    instance = await startInstance({
      env: {
        FLOTILLA_IPFS_ENABLED: "false",
        // Every client comes from 127.0.0.1: one address, so allow them all at once.
        FLOTILLA_LIMITS_MAX_CONCURRENT_UPLOADS_PER_CLIENT: String(options.clients * 4),
      },
    });
  }
  const url = options.url ?? instance?.url ?? "";
  const pid = instance?.process.pid;
  const report: LoadReport = {
    clients: options.clients,
    seconds: options.seconds,
    requests: 0,
    failed: 0,
    corruptBlobs: 0,
    blobsVerified: 0,
    pushes: 0,
    pulls: 0,
    mounts: 0,
    bytesUp: 0,
    bytesDown: 0,
    requestsPerSecond: 0,
    throughputMiBs: 0,
    rss: { startMiB: 0, peakMiB: 0, finalMiB: 0, samples: [] },
    failures: [],
  };
  const rssMiB = async () => (pid ? (await memory(pid)).rss / MiB : 0);
  report.rss.startMiB = await rssMiB();
  const sampler = setInterval(async () => {
    const rss = await rssMiB().catch(() => 0);
    report.rss.samples.push(Math.round(rss));
    report.rss.peakMiB = Math.max(report.rss.peakMiB, rss);
  }, 1000);

  const shared = Array.from({ length: 8 }, (_, i) => bytes((1 + (i % 4)) * MiB));
  const sharedHolders = new Map<string, string>();
  const images: Image[] = [];
  const deadline = Date.now() + options.seconds * 1000;
  const started = Date.now();

  const fail = (what: string) => {
    report.failed++;
    if (report.failures.length < 20) report.failures.push(what);
  };
  const request = async (path: string, init: RequestInit, expect: number[]) => {
    report.requests++;
    const body = init.body as Uint8Array | undefined;
    report.bytesUp += body?.byteLength ?? 0;
    try {
      const res = await fetch(`${url}${path}`, init);
      const data = new Uint8Array(await res.arrayBuffer());
      report.bytesDown += data.byteLength;
      if (!expect.includes(res.status)) {
        fail(
          `${init.method ?? "GET"} ${path} -> ${res.status} ${Buffer.from(data).toString().slice(0, 200)}`,
        );
        return undefined;
      }
      return { res, data };
    } catch (error) {
      fail(`${init.method ?? "GET"} ${path}: ${(error as Error).message}`);
      return undefined;
    }
  };

  const pushBlob = async (repo: string, data: Buffer): Promise<boolean> => {
    const digest = sha256(data);
    if (data.length > 512 * 1024 && Math.random() < 0.5) {
      const start = await request(`/v2/${repo}/blobs/uploads/`, { method: "POST" }, [202]);
      let location = start?.res.headers.get("location");
      if (!location) return false;
      const half = Math.floor(data.length / 2);
      for (const [from, to] of [
        [0, half],
        [half, data.length],
      ] as const) {
        const chunk = data.subarray(from, to);
        const patch = await request(
          location,
          {
            method: "PATCH",
            body: chunk,
            headers: {
              "Content-Range": `${from}-${to - 1}`,
              "Content-Type": "application/octet-stream",
            },
          },
          [202],
        );
        location = patch?.res.headers.get("location");
        if (!location) return false;
      }
      const sep = location.includes("?") ? "&" : "?";
      return Boolean(await request(`${location}${sep}digest=${digest}`, { method: "PUT" }, [201]));
    }
    const done = await request(
      `/v2/${repo}/blobs/uploads/?digest=${digest}`,
      { method: "POST", body: data },
      [201],
    );
    return Boolean(done);
  };

  const pushShared = async (repo: string, data: Buffer): Promise<boolean> => {
    const digest = sha256(data);
    const holder = sharedHolders.get(digest);
    if (holder && holder !== repo && Math.random() < 0.6) {
      const mounted = await request(
        `/v2/${repo}/blobs/uploads/?mount=${digest}&from=${holder}`,
        { method: "POST" },
        [201, 202],
      );
      if (mounted?.res.status === 201) {
        report.mounts++;
        return true;
      }
      // 202: an upload was opened instead; close it, and push the bytes below.
      const opened = mounted?.res.headers.get("location");
      if (opened) await request(opened, { method: "DELETE" }, [204]);
    }
    const ok = await pushBlob(repo, data);
    if (ok) sharedHolders.set(digest, repo);
    return ok;
  };

  const push = async (client: number, round: number) => {
    const repo = `load/c${client}/app${round % 3}`;
    const layers: { digest: string; size: number }[] = [];
    const count = 1 + Math.floor(Math.random() * 3);
    for (let i = 0; i < count; i++) {
      const data =
        Math.random() < 0.4
          ? (shared[Math.floor(Math.random() * shared.length)] as Buffer)
          : bytes(Math.random() < 0.05 ? 2 * MiB : 4096 + Math.floor(Math.random() * 256 * 1024));
      const ok = shared.includes(data) ? await pushShared(repo, data) : await pushBlob(repo, data);
      if (!ok) return;
      layers.push({ digest: sha256(data), size: data.length });
    }
    const config = Buffer.from(
      JSON.stringify({ architecture: "amd64", os: "linux", client, round }),
    );
    if (!(await pushBlob(repo, config))) return;
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: manifestType,
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: sha256(config),
          size: config.length,
        },
        layers: layers.map((l) => ({ mediaType: layerType, ...l })),
      }),
    );
    const tag = `r${round}`;
    const put = await request(
      `/v2/${repo}/manifests/${tag}`,
      { method: "PUT", body: manifest, headers: { "Content-Type": manifestType } },
      [201],
    );
    if (!put) return;
    report.pushes++;
    images.push({
      repo,
      tag,
      manifestDigest: sha256(manifest),
      blobs: [...layers, { digest: sha256(config), size: config.length }],
    });
  };

  const pull = async () => {
    const image = images[Math.floor(Math.random() * images.length)];
    if (!image) return;
    const byDigest = Math.random() < 0.5;
    const got = await request(
      `/v2/${image.repo}/manifests/${byDigest ? image.manifestDigest : image.tag}`,
      { headers: { Accept: manifestType } },
      [200],
    );
    if (!got) return;
    if (byDigest && sha256(got.data) !== image.manifestDigest) report.corruptBlobs++;
    for (const blob of image.blobs) {
      const res = await request(`/v2/${image.repo}/blobs/${blob.digest}`, {}, [200]);
      if (!res) continue;
      report.blobsVerified++;
      if (res.data.byteLength !== blob.size || sha256(res.data) !== blob.digest) {
        report.corruptBlobs++;
        fail(`corrupt blob ${blob.digest} in ${image.repo}`);
      }
    }
    report.pulls++;
  };

  const client = async (id: number) => {
    for (let round = 0; Date.now() < deadline; round++) {
      if (images.length < options.clients || Math.random() < 0.4) await push(id, round);
      else await pull();
    }
  };
  let progress = 0;
  const ticker = setInterval(() => {
    progress += 10;
    log(
      `${progress} s: ${report.requests} requests, ${report.failed} failed, RSS ${report.rss.samples.at(-1) ?? 0} MiB`,
    );
  }, 10_000);
  await Promise.all(Array.from({ length: options.clients }, (_, i) => client(i)));
  clearInterval(ticker);
  clearInterval(sampler);
  const elapsed = (Date.now() - started) / 1000;
  report.requestsPerSecond = Math.round(report.requests / elapsed);
  report.throughputMiBs =
    Math.round(((report.bytesUp + report.bytesDown) / MiB / elapsed) * 10) / 10;
  report.rss.finalMiB = Math.round(await rssMiB());
  report.rss.peakMiB = Math.round(Math.max(report.rss.peakMiB, report.rss.finalMiB));
  report.rss.startMiB = Math.round(report.rss.startMiB);
  await instance?.dispose();
  return report;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      clients: { type: "string", default: "100" },
      seconds: { type: "string", default: "180" },
      short: { type: "boolean", default: false },
      url: { type: "string" },
      json: { type: "string" },
    },
  });
  const report = await runLoad({
    clients: values.short ? 20 : Number(values.clients),
    seconds: values.short ? 15 : Number(values.seconds),
    url: values.url,
    log: (line) => process.stdout.write(`${line}\n`),
  });
  const { samples, ...rss } = report.rss;
  process.stdout.write(`${JSON.stringify({ ...report, rss }, null, 2)}\n`);
  process.stdout.write(`RSS per second (MiB): ${samples.join(" ")}\n`);
  if (values.json) await writeFile(values.json, JSON.stringify(report, null, 2));
  process.exit(report.failed === 0 && report.corruptBlobs === 0 ? 0 : 1);
}

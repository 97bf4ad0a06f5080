/**
 * Flotilla against CNCF Distribution on this machine: skopeo push and pull, monolithic blob
 * upload and download with curl, manifest GETs under load, and Flotilla's peak RSS.
 *
 *   npm run bench                      full sizes (512 MiB, 64 x 1 MiB), median of 3 runs
 *   npm run bench:short                small sizes, one run (a smoke test, under a minute)
 *   node bench/run.ts --only flotilla  one registry only (no ratios)
 *   node bench/run.ts --only ipfs      only the IPFS table (bench/lib/ipfs.ts)
 *   node bench/run.ts --only federation  only the federation figures (bench/federation.ts)
 *   options: --runs N, --duration S (manifest load seconds), --keep (keep the temp dir),
 *            --skip-ipfs (no IPFS table), --skip-federation
 *
 * A second table measures Flotilla's embedded IPFS: push with IPFS on versus off, its disk
 * overhead, and a layer (256 MiB; short: 16 MiB) pulled by CID from a peer versus over HTTP.
 *
 * Results are printed as tables and written to bench/out/<timestamp>.json.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { type FederationBenchResult, runFederationBench } from "./federation.ts";
import { download, upload } from "./lib/http.ts";
import { type IpfsBench, renderIpfsTable, startIpfsBench } from "./lib/ipfs.ts";
import { type Layout, MiB, writeLayout, writeRandomFile } from "./lib/layout.ts";
import { cpuSeconds, killAll, memory, resetPeak, run, sampleRss, waitIdle } from "./lib/proc.ts";
import {
  DISTRIBUTION_BINARY,
  type Registry,
  type RegistryName,
  startDistribution,
  startFlotilla,
} from "./lib/registries.ts";
import { type MetricDef, median, renderTable } from "./lib/report.ts";

const ACCEPT = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");

const { values: opts } = parseArgs({
  options: {
    short: { type: "boolean", default: false },
    only: { type: "string" },
    runs: { type: "string" },
    duration: { type: "string" },
    keep: { type: "boolean", default: false },
    "skip-ipfs": { type: "boolean", default: false },
    "skip-federation": { type: "boolean", default: false },
  },
});

if (opts.only && !["flotilla", "distribution", "ipfs", "federation"].includes(opts.only)) {
  console.error(`--only must be flotilla, distribution, ipfs or federation, not ${opts.only}`);
  process.exit(2);
}
const names: RegistryName[] =
  opts.only === "ipfs" || opts.only === "federation"
    ? []
    : opts.only
      ? [opts.only as RegistryName]
      : ["flotilla", "distribution"];
const withIpfs = opts["skip-ipfs"] !== true && (!opts.only || opts.only === "ipfs");
// bench/federation.ts: push-to-pullable between two instances, Notes per second to N followers.
const withFederation =
  opts["skip-federation"] !== true && (!opts.only || opts.only === "federation");

const short = opts.short === true;
const config = {
  mode: short ? "short" : "full",
  largeBytes: (short ? 32 : 512) * MiB,
  smallLayers: short ? 8 : 64,
  smallLayerBytes: MiB,
  runs: opts.runs ? Number(opts.runs) : short ? 1 : 3,
  loadSeconds: opts.duration ? Number(opts.duration) : short ? 3 : 10,
  warmupSeconds: short ? 1 : 2,
  getsPerRun: short ? 1 : 3,
  ipfsPeerBytes: (short ? 16 : 256) * MiB,
  connections: 50,
};

const largeLabel = `${config.largeBytes / MiB} MiB`;
const smallLabel = `${config.smallLayers} x 1 MiB`;

const metrics: MetricDef[] = [
  { key: "pushLarge", label: `skopeo push ${largeLabel} (1 layer)`, unit: "s", better: "lower" },
  { key: "pullLarge", label: `skopeo pull ${largeLabel} (1 layer)`, unit: "s", better: "lower" },
  { key: "pushSmall", label: `skopeo push ${smallLabel} layers`, unit: "s", better: "lower" },
  { key: "pullSmall", label: `skopeo pull ${smallLabel} layers`, unit: "s", better: "lower" },
  { key: "blobUpload", label: `curl upload ${largeLabel} blob`, unit: "MB/s", better: "higher" },
  { key: "blobDownload", label: `curl GET ${largeLabel} blob`, unit: "MB/s", better: "higher" },
  {
    key: "manifestGets",
    label: `manifest GETs, ${config.connections} conns`,
    unit: "req/s",
    better: "higher",
    minRatio: 2,
  },
  {
    key: "peakRss",
    label: `peak RSS during push ${largeLabel}`,
    unit: "MB",
    better: "lower",
    maxValue: 200,
  },
];

/** Server-side details that help explain a row: CPU seconds per phase, idle RSS, latencies. */
const details: MetricDef[] = [
  { key: "cpu.pushLarge", label: "server CPU s, push large", unit: "s", better: "lower" },
  {
    key: "background.pushLarge",
    label: "server CPU s after push large",
    unit: "s",
    better: "lower",
  },
  { key: "cpu.pullLarge", label: "server CPU s, pull large", unit: "s", better: "lower" },
  { key: "cpu.pushSmall", label: "server CPU s, push small", unit: "s", better: "lower" },
  {
    key: "background.pushSmall",
    label: "server CPU s after push small",
    unit: "s",
    better: "lower",
  },
  { key: "cpu.pullSmall", label: "server CPU s, pull small", unit: "s", better: "lower" },
  { key: "cpu.blobUpload", label: "server CPU s, curl upload", unit: "s", better: "lower" },
  { key: "background.blobUpload", label: "server CPU s after upload", unit: "s", better: "lower" },
  { key: "cpu.blobDownload", label: "server CPU s, curl GET", unit: "s", better: "lower" },
  { key: "uploadPost", label: "upload: POST (start) time", unit: "ms", better: "lower" },
  { key: "uploadPut", label: "upload: PUT (body) time", unit: "s", better: "lower" },
  { key: "manifestP50", label: "manifest GET latency p50", unit: "ms", better: "lower" },
  { key: "manifestP99", label: "manifest GET latency p99", unit: "ms", better: "lower" },
  { key: "idleRss", label: "RSS at start of run (idle)", unit: "MB", better: "lower" },
  { key: "rssBeforePush", label: "RSS right before push large", unit: "MB", better: "lower" },
  { key: "rssAfterPush", label: "RSS right after push large", unit: "MB", better: "lower" },
];

type Sample = Record<string, number>;
const samples: Record<string, Sample[]> = {};
const errors: { registry: string; run: number; phase: string; error: string }[] = [];

const root = await mkdtemp(join(tmpdir(), "flotilla-bench-"));
const registries: Registry[] = [];
let ipfsBench: IpfsBench | undefined;
const ipfsSamples: Sample[] = [];
let cleaning: Promise<void> | undefined;

async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.allSettled([...registries.map((r) => r.stop()), ipfsBench?.stop()]);
    await killAll();
    if (opts.keep) console.error(`kept ${root}`);
    else await rm(root, { recursive: true, force: true });
  })();
  return cleaning;
}

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    if (stopping) {
      console.error(`\n${signal} again: exiting now`);
      process.exit(130);
    }
    stopping = true;
    console.error(`\n${signal}: stopping registries and removing ${root}`);
    void cleanup().finally(() => process.exit(130));
  });
}

function log(message: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

async function skopeo(args: string[]): Promise<number> {
  const result = await run("skopeo", ["--insecure-policy", "copy", "--quiet", ...args]);
  return result.seconds;
}

function push(layout: Layout, registry: Registry, repo: string): Promise<number> {
  return skopeo([
    "--preserve-digests",
    "--dest-tls-verify=false",
    layout.ref,
    `docker://${registry.host}/${repo}:latest`,
  ]);
}

async function pull(registry: Registry, repo: string, layout: Layout): Promise<number> {
  const dest = join(root, `pull-${registry.name}`);
  await rm(dest, { recursive: true, force: true });
  try {
    const seconds = await skopeo([
      "--preserve-digests",
      "--src-tls-verify=false",
      "--dest-oci-accept-uncompressed-layers",
      `docker://${registry.host}/${repo}:latest`,
      `oci:${dest}:latest`,
    ]);
    const index = JSON.parse(await readFile(join(dest, "index.json"), "utf8")) as {
      manifests: { digest: string }[];
    };
    const got = index.manifests[0]?.digest;
    if (got !== layout.manifestDigest) {
      throw new Error(`pulled manifest ${got}, pushed ${layout.manifestDigest}`);
    }
    return seconds;
  } finally {
    await rm(dest, { recursive: true, force: true });
  }
}

/** Fetches a blob once and checks its sha256 (not timed). */
async function verifyBlob(registry: Registry, repo: string, digest: string): Promise<void> {
  const url = `${registry.url}/v2/${repo}/blobs/${digest}`;
  const res = await fetch(url);
  if (res.status !== 200 || !res.body) throw new Error(`GET ${url} -> ${res.status}`);
  const hash = createHash("sha256");
  for await (const chunk of res.body) hash.update(chunk);
  const got = `sha256:${hash.digest("hex")}`;
  if (got !== digest) throw new Error(`GET ${url} returned content with digest ${got}`);
}

async function manifestLoad(
  registry: Registry,
  repo: string,
  layout: Layout,
): Promise<{ rps: number; p50: number; p99: number }> {
  const url = `${registry.url}/v2/${repo}/manifests/latest`;
  const check = await fetch(url, { headers: { accept: ACCEPT } });
  const text = await check.text();
  const digest = `sha256:${createHash("sha256").update(text).digest("hex")}`;
  if (check.status !== 200 || digest !== layout.manifestDigest) {
    throw new Error(
      `GET ${url} -> ${check.status} ${JSON.stringify(Object.fromEntries(check.headers))} body digest ${digest}, expected ${layout.manifestDigest}`,
    );
  }
  const options = { url, connections: config.connections, headers: { accept: ACCEPT } };
  await autocannon({ ...options, duration: config.warmupSeconds });
  const result = await autocannon({ ...options, duration: config.loadSeconds });
  if (result.non2xx > 0 || result.errors > 0) {
    const codes = JSON.stringify(result.statusCodeStats ?? {});
    throw new Error(
      `manifest load: ${result.non2xx} non-2xx (${codes}), ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
  return { rps: result["2xx"] / result.duration, p50: result.latency.p50, p99: result.latency.p99 };
}

/** Runs one timed phase against a registry, recording server CPU and errors. */
async function phase(
  registry: Registry,
  runIndex: number,
  sample: Sample,
  name: string,
  body: () => Promise<void>,
): Promise<boolean> {
  if (stopping) throw new Error("interrupted");
  try {
    await waitIdle(registry.pid);
    const cpuBefore = await cpuSeconds(registry.pid);
    await body();
    sample[`cpu.${name}`] = (await cpuSeconds(registry.pid)) - cpuBefore;
    return true;
  } catch (error) {
    if (stopping) throw new Error("interrupted");
    const message = error instanceof Error ? error.message : String(error);
    errors.push({ registry: registry.name, run: runIndex, phase: name, error: message });
    log(`${registry.name} ${name} FAILED: ${message.slice(0, 2000)}`);
    const tail = registry.output().slice(-1500).trim();
    if (tail) log(`${registry.name} output (tail):\n${tail}`);
    return false;
  }
}

async function benchRegistry(
  registry: Registry,
  runIndex: number,
  data: { large: Layout; small: Layout; blob: { file: string; digest: string; size: number } },
): Promise<Sample> {
  const sample: Sample = {};
  const pid = registry.pid;
  const mb = (bytes: number) => bytes / 1e6;
  const large = `bench/large-${runIndex}`;
  const small = `bench/small-${runIndex}`;
  const blobRepo = `bench/blob-${runIndex}`;

  log(`${registry.name}: push ${largeLabel}`);
  const pushedLarge = await phase(registry, runIndex, sample, "pushLarge", async () => {
    const reset = await resetPeak(pid);
    const before = await memory(pid);
    const stopSampling = sampleRss(pid);
    try {
      sample.pushLarge = await push(data.large, registry, large);
    } finally {
      const sampled = await stopSampling();
      const after = await memory(pid);
      sample.peakRss = mb(Math.max(sampled, reset ? after.hwm : 0, before.rss));
      sample.rssBeforePush = mb(before.rss);
      sample.rssAfterPush = mb(after.rss);
    }
  });
  if (pushedLarge) sample["background.pushLarge"] = (await waitIdle(pid)).cpu;
  if (pushedLarge) {
    log(`${registry.name}: pull ${largeLabel}`);
    await phase(registry, runIndex, sample, "pullLarge", async () => {
      sample.pullLarge = await pull(registry, large, data.large);
    });
  }

  log(`${registry.name}: push ${smallLabel}`);
  const pushedSmall = await phase(registry, runIndex, sample, "pushSmall", async () => {
    sample.pushSmall = await push(data.small, registry, small);
  });
  if (pushedSmall) sample["background.pushSmall"] = (await waitIdle(pid)).cpu;
  if (pushedSmall) {
    log(`${registry.name}: pull ${smallLabel}`);
    await phase(registry, runIndex, sample, "pullSmall", async () => {
      sample.pullSmall = await pull(registry, small, data.small);
    });
  }

  log(`${registry.name}: curl upload and GET ${largeLabel}`);
  const uploaded = await phase(registry, runIndex, sample, "blobUpload", async () => {
    const { post, put } = await upload(registry, blobRepo, data.blob.file, data.blob.digest);
    sample.uploadPost = post * 1000;
    sample.uploadPut = put;
    sample.blobUpload = mb(data.blob.size) / (post + put);
  });
  if (uploaded) {
    sample["background.blobUpload"] = (await waitIdle(pid)).cpu;
    await phase(registry, runIndex, sample, "blobDownload", async () => {
      // Several GETs per run (the blob is in the page cache for both); the median counts.
      const rates: number[] = [];
      for (let i = 0; i < config.getsPerRun; i++) {
        const seconds = await download(registry, blobRepo, data.blob.digest, data.blob.size);
        rates.push(mb(data.blob.size) / seconds);
      }
      sample.blobDownload = median(rates) ?? 0;
    });
    if (runIndex === 0) {
      await phase(registry, runIndex, sample, "verifyBlob", () =>
        verifyBlob(registry, blobRepo, data.blob.digest),
      );
    }
  }

  if (pushedSmall) {
    log(`${registry.name}: manifest GETs for ${config.loadSeconds} s`);
    await phase(registry, runIndex, sample, "manifestGets", async () => {
      const load = await manifestLoad(registry, small, data.small);
      sample.manifestGets = load.rps;
      sample.manifestP50 = load.p50;
      sample.manifestP99 = load.p99;
    });
  }
  return sample;
}

async function versionOf(command: string, args: string[]): Promise<string> {
  try {
    const result = await run(command, args, { allowFailure: true, timeoutMs: 10_000 });
    return (result.stdout || result.stderr).trim().split("\n")[0] ?? "";
  } catch {
    return "unavailable";
  }
}

async function main(): Promise<void> {
  if (names.includes("distribution") && !existsSync(DISTRIBUTION_BINARY)) {
    throw new Error(`${DISTRIBUTION_BINARY} not found: apt-get install docker-registry`);
  }
  const started = new Date();
  log(
    `mode ${config.mode}: ${names.join(" vs ") || "IPFS only"}${withIpfs && names.length ? " + IPFS" : ""}, ${config.runs} run(s), temp dir ${root}`,
  );

  for (const name of names) {
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    const registry = name === "flotilla" ? await startFlotilla(dir) : await startDistribution(dir);
    registries.push(registry);
    await waitIdle(registry.pid, 30);
    samples[name] = [];
    log(`${name} on ${registry.url} (pid ${registry.pid})`);
  }

  for (let r = 0; r < config.runs; r++) {
    log(`run ${r + 1}/${config.runs}: writing random content`);
    const dataDir = join(root, `data-${r}`);
    await mkdir(dataDir, { recursive: true });
    const large = await writeLayout(join(dataDir, "large"), [config.largeBytes]);
    const small = await writeLayout(
      join(dataDir, "small"),
      Array.from({ length: config.smallLayers }, () => config.smallLayerBytes),
    );
    const blobFile = join(dataDir, "blob");
    const blob = { file: blobFile, ...(await writeRandomFile(blobFile, config.largeBytes)) };
    // Alternate the order so neither registry always goes first.
    const order = r % 2 === 0 ? registries : [...registries].reverse();
    for (const registry of order) {
      const idle = await memory(registry.pid).catch(() => ({ rss: 0, hwm: 0 }));
      const sample = await benchRegistry(registry, r, { large, small, blob });
      sample.idleRss = idle.rss / 1e6;
      samples[registry.name]?.push(sample);
    }
    await rm(dataDir, { recursive: true, force: true });
  }

  let ipfsTable: ReturnType<typeof renderIpfsTable> | undefined;
  if (withIpfs) {
    // The registries above are done; stop them so they do not share the CPU with these.
    await Promise.allSettled(registries.map((r) => r.stop()));
    const loadBefore = loadavg()[0] ?? 0;
    ipfsBench = await startIpfsBench({
      root: join(root, "ipfs"),
      pushBytes: config.largeBytes,
      peerBytes: config.ipfsPeerBytes,
      pushReps: short ? 3 : 2,
      getsPerRun: config.getsPerRun,
      log,
      stopping: () => stopping,
    });
    for (let r = 0; r < config.runs; r++) ipfsSamples.push(await ipfsBench.run(r));
    errors.push(...ipfsBench.errors);
    await ipfsBench.stop();
    ipfsTable = renderIpfsTable(ipfsSamples, {
      pushBytes: config.largeBytes,
      peerBytes: config.ipfsPeerBytes,
      note: `machine load average (1 min) before/after the IPFS runs: ${loadBefore.toFixed(2)} / ${(loadavg()[0] ?? 0).toFixed(2)} on ${cpus().length} CPUs.`,
    });
  }

  let federation: FederationBenchResult | undefined;
  if (withFederation) {
    await Promise.allSettled(registries.map((r) => r.stop()));
    federation = await runFederationBench({
      pushes: short ? 3 : 10,
      followers: short ? 10 : 50,
      fanoutPushes: short ? 2 : 4,
      log,
    });
  }

  const { text, rows, medians } = renderTable(metrics, details, samples, names);
  if (names.length > 0) {
    console.log("");
    console.log(text);
  }
  if (ipfsTable) {
    console.log("");
    console.log(ipfsTable.text);
  }
  if (federation) console.log(`\n${federation.text}`);
  if (errors.length > 0) {
    console.log(`\n${errors.length} phase(s) failed:`);
    for (const e of errors)
      console.log(`  ${e.registry} run ${e.run + 1} ${e.phase}: ${e.error.slice(0, 1000)}`);
  }

  const outDir = new URL("./out/", import.meta.url).pathname;
  await mkdir(outDir, { recursive: true });
  const outFile = join(outDir, `${started.toISOString().replace(/[:.]/g, "-")}.json`);
  const gitRev = await run(
    "git",
    ["-C", new URL("..", import.meta.url).pathname, "rev-parse", "--short", "HEAD"],
    { allowFailure: true },
  ).then((r) => (r.code === 0 ? r.stdout.trim() : "no commit"));
  await writeFile(
    outFile,
    `${JSON.stringify(
      {
        started: started.toISOString(),
        finished: new Date().toISOString(),
        config,
        registries: names,
        machine: {
          cpus: cpus().length,
          cpuModel: cpus()[0]?.model,
          memoryBytes: totalmem(),
          node: process.version,
          skopeo: await versionOf("skopeo", ["--version"]),
          curl: await versionOf("curl", ["--version"]),
          distribution: names.includes("distribution")
            ? await versionOf(DISTRIBUTION_BINARY, ["--version"])
            : undefined,
          gitRev,
        },
        rows,
        medians,
        samples,
        ipfs: ipfsTable && { rows: ipfsTable.rows, samples: ipfsSamples },
        federation: federation && { ...federation, text: undefined },
        errors,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nwrote ${outFile}`);
  if (errors.length > 0) process.exitCode = 1;
}

try {
  await main();
} catch (error) {
  if (!stopping) console.error(error);
  for (const registry of registries) {
    const tail = registry.output().slice(-3000);
    if (tail) console.error(`--- ${registry.name} output (tail) ---\n${tail}`);
  }
  process.exitCode = 1;
} finally {
  await cleanup();
}

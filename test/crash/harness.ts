/**
 * The crash harness: workers push, move tags and delete against a real Flotilla process, which is
 * SIGKILLed at a random moment, checked on disk while down, restarted on the same data directory,
 * and checked through the API against what every client was told. Repeats `kills` times.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, type Instance, startInstance } from "../helpers/instance.ts";
import { leaveUploadOpen } from "./blob-ops.ts";
import { errorCode, send, uploadOffset } from "./client.ts";
import { gcEnv, mayHaveCollected, runGcLoop } from "./gc.ts";
import { RepositoryModel } from "./model.ts";
import { Rng } from "./rng.ts";
import {
  asideFiles,
  blobFiles,
  checkModel,
  deadTemporaries,
  metaCheck,
  type StoreWalk,
  walkStore,
} from "./verify.ts";
import { finishUploads, runWorker, type WorkerContext } from "./worker.ts";

export interface CrashOptions {
  kills: number;
  seed: number;
  /** Concurrent clients, one repository each. */
  workers?: number;
  /** Each kill lands this long after the workers start (uniformly at random in between). */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Certain facts re-read through the API per repository and cycle (everything at the end). */
  sample?: number;
  log?: (line: string) => void;
  /** Keep the data directory even when the run passes. */
  keepData?: boolean;
  /**
   * Garbage collection (`POST /api/v1/admin/gc`, no grace window) in a loop beside the workers,
   * so kills also land mid-sweep; default on.
   */
  gc?: boolean;
}

export interface CrashReport {
  seed: number;
  kills: number;
  /** Unexpected replies, broken invariants, lost acknowledged writes; empty when the run passed. */
  problems: string[];
  counters: Record<string, number>;
  /** The last walk of the database and files. */
  walk: StoreWalk | undefined;
  /** Largest number of upload files with no row seen after a kill. */
  maxOrphanUploadFiles: number;
  /** Pending uploads found after a restart, and how many of them were at the expected offset. */
  uploadsChecked: number;
  durationMs: number;
  dataDir: string;
}

/** The registry alone: the extensions keep their own state and are not what this run checks. */
const baseEnv = {
  FLOTILLA_IPFS_ENABLED: "false",
  FLOTILLA_FEDERATION_ENABLED: "false",
  FLOTILLA_WEB_ENABLED: "false",
  FLOTILLA_LOG_LEVEL: "error",
};

export async function runCrash(options: CrashOptions): Promise<CrashReport> {
  const started = Date.now();
  const gcOn = options.gc ?? true;
  const env = { ...baseEnv, ...(gcOn ? gcEnv : {}) };
  const log = options.log ?? (() => {});
  const rng = new Rng(options.seed);
  const dataDir = await mkdtemp(join(tmpdir(), "flotilla-crash-"));
  const port = await freePort();
  const models = Array.from(
    { length: options.workers ?? 4 },
    (_, i) => new RepositoryModel(`crash/w${i}`),
  );
  const shared = Array.from({ length: 6 }, () => rng.bytes(rng.int(1000, 48 * 1024)));
  const verified = new Map<string, number>();
  const counters: Record<string, number> = {};
  const problems: string[] = [];
  const report: CrashReport = {
    seed: options.seed,
    kills: 0,
    problems,
    counters,
    walk: undefined,
    maxOrphanUploadFiles: 0,
    uploadsChecked: 0,
    durationMs: 0,
    dataDir,
  };
  log(`crash harness: seed ${options.seed}, ${options.kills} kills, data in ${dataDir}`);
  let instance: Instance = await startInstance({ dataDir, port, keepData: true, env });
  try {
    for (let kill = 1; kill <= options.kills && problems.length === 0; kill++) {
      let killed = false;
      const workers = models.map((model) => {
        const ctx: WorkerContext = {
          url: () => instance.url,
          rng: rng.fork(),
          model,
          others: models,
          shared,
          killed: () => killed,
          failures: problems,
          counters,
          gc: gcOn,
        };
        return runWorker(ctx);
      });
      const gcRng = rng.fork();
      const gc = gcOn
        ? runGcLoop({
            url: () => instance.url,
            rng: gcRng,
            killed: () => killed,
            failures: problems,
            counters,
          })
        : Promise.resolve();
      // One cycle in ten runs longer, so garbage collections also finish now and then.
      const long = rng.chance(0.1);
      await sleep(
        long ? rng.int(2000, 4000) : rng.int(options.minDelayMs ?? 100, options.maxDelayMs ?? 800),
      );
      killed = true;
      await instance.kill();
      report.kills = kill;
      await Promise.all([...workers, gc]);
      if (gcOn) for (const model of models) mayHaveCollected(model);

      const walk = await walkStore(dataDir, verified);
      report.walk = walk;
      report.maxOrphanUploadFiles = Math.max(report.maxOrphanUploadFiles, walk.orphanUploadFiles);
      problems.push(...walk.problems.map((p) => `after kill ${kill} (on disk): ${p}`));

      instance = await startInstance({ dataDir, port, keepData: true, env });
      problems.push(
        ...(await metaCheck(dataDir)).map((p) => `after kill ${kill} (meta.check): ${p}`),
      );
      for (const name of await deadTemporaries(dataDir, instance.process.pid)) {
        problems.push(`after kill ${kill}: temporary ${name} survived the restart`);
      }
      problems.push(
        ...(await checkAsideRestored(dataDir, walk)).map((p) => `after kill ${kill}: ${p}`),
      );
      counters.killsWithFilesAside =
        (counters.killsWithFilesAside ?? 0) + (walk.aside.length > 0 ? 1 : 0);
      for (const model of models) {
        const found = await checkUploads(instance.url, model);
        report.uploadsChecked += found.checked;
        problems.push(...found.problems.map((p) => `after kill ${kill}: ${p}`));
        const seen = await checkModel(instance.url, model, options.sample ?? 12, (n) =>
          rng.int(0, n - 1),
        );
        problems.push(...seen.map((p) => `after kill ${kill}: ${p}`));
      }
      if (kill % 10 === 0 || problems.length > 0) {
        log(
          `kill ${kill}: ${walk.blobs} blobs, ${walk.manifests} manifests, ${walk.tags} tags, ` +
            `${walk.uploads} uploads open, ${problems.length} problems (${Math.round((Date.now() - started) / 1000)} s)`,
        );
      }
    }
    // Half the uploads still open (rounded up) are left to expire; the others are finished.
    const expiring = models.flatMap((m) => m.uploads.splice(0, Math.ceil(m.uploads.length / 2)));
    if (problems.length === 0) await finalChecks(instance, models, problems, counters);
    const [first] = models;
    if (problems.length === 0 && expiring.length === 0 && first) {
      // The kills left no upload open: open one, so that expiry is checked in every run.
      const left = await leaveUploadOpen(finalContext(instance, first, problems, counters));
      if (left) expiring.push(...first.uploads.splice(0));
    }
    if (problems.length === 0) {
      // Expired uploads are purged at start: restart with an expiry of a moment.
      await instance.stop();
      instance = await startInstance({
        dataDir,
        port,
        keepData: true,
        env: { ...env, FLOTILLA_REGISTRY_UPLOAD_EXPIRY_HOURS: "0.000001" },
      });
      if (gcOn) {
        // One last collection: whatever kills left behind (files nothing names) goes now.
        const gcReply = await send(`${instance.url}/api/v1/admin/gc`, { method: "POST" });
        if (gcReply.status !== 200) problems.push(`final gc answered ${gcReply.status}`);
      }
      await instance.stop();
      const walk = await walkStore(dataDir, new Map());
      report.walk = walk;
      problems.push(...walk.problems.map((p) => `final walk: ${p}`));
      if (walk.uploads !== 0) problems.push(`${walk.uploads} expired uploads survived the purge`);
      if (gcOn && walk.unnamedFiles + walk.orphanUploadFiles + walk.temporaries > 0) {
        problems.push(`garbage left after a final collection: ${JSON.stringify(walk)}`);
      }
      instance = await startInstance({ dataDir, port, keepData: true, env });
      for (const upload of expiring) {
        const reply = await send(`${instance.url}${upload.location}`);
        if (reply.status !== 404)
          problems.push(`expired upload ${upload.location} answers ${reply.status}`);
      }
      counters.uploadsExpired = expiring.length;
    }
  } finally {
    if (problems.length > 0) log(`server output:\n${instance.output().slice(-4000)}`);
    await instance.stop();
    report.durationMs = Date.now() - started;
    if (problems.length === 0 && !options.keepData)
      await rm(dataDir, { recursive: true, force: true });
  }
  return report;
}

/**
 * Every upload a client had open must still be there at an offset between what was acknowledged
 * and what was sent, unless its final PUT was cut short (then it may have become the blob).
 */
async function checkUploads(url: string, model: RepositoryModel) {
  const problems: string[] = [];
  let checked = 0;
  for (const upload of [...model.uploads]) {
    checked++;
    const reply = await send(`${url}${upload.location}`);
    if (reply.status === 404 && errorCode(reply) === "BLOB_UPLOAD_UNKNOWN" && upload.finishing) {
      model.uploads.splice(model.uploads.indexOf(upload), 1);
      continue;
    }
    if (reply.status !== 204) {
      problems.push(
        `upload ${upload.location} (acked ${upload.acked}) answers ${reply.status} ${errorCode(reply)}`,
      );
      continue;
    }
    const offset = uploadOffset(reply);
    // 0-0 reads as 0 although it may be 1 (see uploadOffset).
    if (offset < upload.acked - (offset === 0 ? 1 : 0) || offset > upload.sent) {
      problems.push(
        `upload ${upload.location} holds ${offset} bytes; acknowledged ${upload.acked}, sent ${upload.sent}`,
      );
    }
    upload.acked = upload.sent = offset;
    upload.finishing = false;
  }
  return { problems, checked };
}

/** Finishes every open upload, then reads every fact of every repository back. */
async function finalChecks(
  instance: Instance,
  models: RepositoryModel[],
  problems: string[],
  counters: Record<string, number>,
) {
  for (const model of models) {
    await finishUploads(finalContext(instance, model, problems, counters, models));
    problems.push(...(await checkModel(instance.url, model, Number.POSITIVE_INFINITY, () => 0)));
  }
}

/** A worker context for the harness's own requests once the kills are over. */
function finalContext(
  instance: Instance,
  model: RepositoryModel,
  problems: string[],
  counters: Record<string, number>,
  others: RepositoryModel[] = [model],
): WorkerContext {
  return {
    url: () => instance.url,
    rng: new Rng(1),
    model,
    others,
    shared: [],
    killed: () => false,
    failures: problems,
    counters,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Blob files a killed GC had moved aside are back in place after the restart, and none is left. */
async function checkAsideRestored(dataDir: string, walk: StoreWalk): Promise<string[]> {
  const problems: string[] = [];
  const present = new Set(await blobFiles(dataDir));
  for (const digest of walk.aside) {
    if (!present.has(digest)) problems.push(`${digest} was moved aside by GC and not put back`);
  }
  const left = await asideFiles(dataDir);
  if (left.length > 0) problems.push(`gc-aside still holds ${left.join(", ")} after a restart`);
  return problems;
}

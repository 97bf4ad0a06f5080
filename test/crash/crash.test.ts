/**
 * CI-sized crash run: 50 SIGKILLs of a real instance during concurrent monolithic and chunked
 * pushes, mounts, manifest and index pushes with tag moves, deletes and garbage collection; after
 * each, the data on disk and every acknowledged write are checked (see harness.ts). `npm run crash -- --kills 500`
 * runs the long form. FLOTILLA_CRASH_SEED replays a run; the kill moments still vary with timing.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { type CrashReport, runCrash } from "./harness.ts";

const kills = Number(process.env.FLOTILLA_CRASH_KILLS ?? 50);
const seed = Number(process.env.FLOTILLA_CRASH_SEED ?? 20261204);

describe("crash safety", { timeout: 600_000 }, () => {
  let report: CrashReport;
  before(async () => {
    const lines: string[] = [];
    report = await runCrash({ kills, seed, log: (line) => lines.push(line) });
    for (const line of lines) process.stderr.write(`# ${line}\n`);
  });

  it(`survives ${kills} kills with every invariant intact (seed ${seed})`, (t) => {
    t.diagnostic(
      `seed ${seed}: ${report.kills} kills in ${Math.round(report.durationMs / 1000)} s, ` +
        `work done ${JSON.stringify(report.counters)}, last walk ${JSON.stringify(report.walk)}`,
    );
    assert.deepEqual(report.problems.slice(0, 20), [], `seed ${seed}, data in ${report.dataDir}`);
    assert.equal(report.kills, kills);
  });

  it("did real work between kills: pushes, chunked uploads, resumes, tag moves, deletes, GC", () => {
    const kinds = ["blobs", "chunked", "tagMoves", "deletes", "manifests", "resumed", "gcRuns"];
    for (const kind of [...kinds, "killsDuringGc", "gc.links", "uploadsExpired"]) {
      assert.ok((report.counters[kind] ?? 0) > 0, `${kind}: ${JSON.stringify(report.counters)}`);
    }
    assert.ok(report.uploadsChecked > 0, "some uploads were open at a kill and checked after it");
    assert.ok((report.walk?.manifests ?? 0) > 0 && (report.walk?.references ?? 0) > 0);
  });

  it("leaves no upload file that can neither resume nor expire", () => {
    // UploadService.start used to create the file before its row, and a kill between the two left
    // a file no row names; checked on disk after every kill.
    assert.equal(report.maxOrphanUploadFiles, 0);
  });
});

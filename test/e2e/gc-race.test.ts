/**
 * GC against real pushes: skopeo pushes images that share layers while the admin API collects
 * over and over with a grace window of about a second. A push may be refused (GC took a blob between the
 * client's HEAD and its manifest PUT: MANIFEST_BLOB_UNKNOWN, and the client pushes again), but a
 * push that succeeded always pulls back whole.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Instance, startInstance } from "../helpers/instance.ts";
import { writeImageLayout } from "../helpers/oci-layout.ts";
import { needs, skopeo, tempDir } from "./tools.ts";

const skip = needs("skopeo");

describe("GC racing skopeo pushes", { skip, timeout: 300_000 }, () => {
  let instance: Instance;
  let work: { path: string; remove(): Promise<void> };

  before(async () => {
    work = await tempDir("gc-race");
    instance = await startInstance({
      env: {
        // 1.2 s: enough for one small push between its blob uploads and its manifest, and short
        // enough that every GC run takes what earlier rounds left behind.
        FLOTILLA_GC_GRACE_MINUTES: "0.02",
        FLOTILLA_GC_DELETE_UNTAGGED: "true",
        FLOTILLA_IPFS_ENABLED: "false",
      },
    });
  });

  after(async () => {
    await instance?.dispose();
    await work?.remove();
  });

  it("never leaves a pushed tag that does not pull", async (t) => {
    const layouts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const dir = join(work.path, `src${i}`);
      // Shared layers ("base") and one of each image's own.
      await writeImageLayout(dir, { tag: "v1", seed: `img${i}`, layers: [30_000, 5_000 + i] });
      layouts.push(dir);
    }
    let collecting = true;
    let runs = 0;
    let removed = 0;
    const collector = (async () => {
      while (collecting) {
        const res = await fetch(`${instance.url}/api/v1/admin/gc`, { method: "POST" });
        assert.ok(res.status === 200 || res.status === 503, `GC answered ${res.status}`);
        if (res.status === 200) {
          runs++;
          const report = (await res.json()) as { manifests: number; blobs: number };
          removed += report.manifests + report.blobs;
        } else await res.arrayBuffer();
        await new Promise((resolve) => setTimeout(resolve, 50)); // a shared CI machine
      }
    })();
    const pushed: string[] = [];
    const refused: string[] = [];
    try {
      for (let round = 0; round < 12; round++) {
        // Let earlier rounds age past the grace window, so runs have something to take.
        await new Promise((resolve) => setTimeout(resolve, 400));
        const layout = layouts[round % layouts.length] as string;
        const target = `alice/app${round % 2}:t${round % 4}`;
        try {
          await skopeo(
            [
              "copy",
              "--dest-tls-verify=false",
              "--retry-times=0",
              `oci:${layout}:v1`,
              `docker://${instance.host}/${target}`,
            ],
            work.path,
          );
          pushed.push(target);
        } catch (error) {
          assert.match((error as Error).message, /blob unknown|MANIFEST_BLOB_UNKNOWN/i);
          refused.push(target);
        }
      }
    } finally {
      collecting = false;
      await collector;
    }
    t.diagnostic(
      `${runs} GC runs removed ${removed} manifests and blobs; ${pushed.length} pushes, ${refused.length} refused`,
    );
    assert.ok(runs > 0, "GC ran during the pushes");
    assert.ok(removed > 0, "GC took what moved tags left untagged");
    assert.ok(pushed.length > 0, `some pushes succeeded (refused: ${refused.join(", ")})`);
    // The latest successful push of each tag pulls back whole, every blob verified by skopeo.
    for (const target of new Set(pushed)) {
      const out = join(work.path, `pulled-${target.replace(/[/:]/g, "-")}`);
      await skopeo(
        ["copy", "--src-tls-verify=false", `docker://${instance.host}/${target}`, `oci:${out}:x`],
        work.path,
      );
    }
  });
});

/**
 * The short form of the load test (bench/load.ts --short): 20 concurrent clients for 15 s pushing
 * distinct and shared layers (monolithic, chunked, mounted), manifests, and pulling images back
 * with every blob's sha256 checked. `npm run load` runs the full form (100 clients, 3 minutes).
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { runLoad } from "../bench/load.ts";

it("20 clients for 15 s: no failed request, no corrupt blob, bounded memory", {
  timeout: 120_000,
}, async (t) => {
  const report = await runLoad({ clients: 20, seconds: 15 });
  const { samples, ...rss } = report.rss;
  t.diagnostic(
    `${report.requests} requests (${report.requestsPerSecond}/s, ${report.throughputMiBs} MiB/s), ` +
      `${report.pushes} pushes, ${report.pulls} pulls, ${report.mounts} mounts, ` +
      `${report.blobsVerified} blobs verified, RSS ${JSON.stringify(rss)}`,
  );
  assert.deepEqual(report.failures, []);
  assert.equal(report.failed, 0);
  assert.equal(report.corruptBlobs, 0);
  assert.ok(report.pushes > 0 && report.pulls > 0 && report.mounts > 0, JSON.stringify(report));
  assert.ok(report.blobsVerified > 0);
  assert.ok(samples.length > 0 && rss.peakMiB < 1024, `peak RSS ${rss.peakMiB} MiB`);
});

/**
 * A chunked blob upload that survives a client disconnecting in the middle of a PATCH, a clean
 * server stop (SIGTERM) and a crash (SIGKILL), each followed by a new process on the same data
 * directory; the blob is then complete, verified by digest, and still there after a restart.
 */
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { describe, it } from "node:test";
import { type Instance, startInstance } from "../helpers/instance.ts";
import { randomBytes, sha256 } from "../helpers/oci-layout.ts";
import {
  abortedPatch,
  describeReply,
  expectUploadGone,
  MiB,
  rangeEnd,
  settledStatus,
  startUpload,
  verifyBlob,
} from "./upload-client.ts";

describe("resumable blob uploads", { timeout: 300_000 }, () => {
  it("resumes after a client disconnect, a server stop and a crash", async (t) => {
    const first = await startInstance({ keepData: true });
    const { dataDir, port } = first;
    let current: Instance = first;
    try {
      const data = randomBytes(5 * MiB + 4321);
      const chunk1 = MiB + 5;
      const chunk2End = 3 * MiB;
      const upload = await startUpload(current, "e2e/resume");

      const r1 = await upload.patch(data.subarray(0, chunk1), 0);
      assert.equal(r1.status, 202, describeReply("PATCH", upload.location, r1));
      assert.equal(rangeEnd(r1), chunk1 - 1);

      // The client declares the whole second chunk, sends half of it, and drops the connection.
      const half = Math.floor((chunk2End - chunk1) / 2);
      const early = await abortedPatch(
        upload.location,
        data.subarray(chunk1, chunk2End),
        chunk1,
        half,
      );
      assert.ok(
        early === undefined || early >= 400,
        `no success for an incomplete PATCH body (got ${early})`,
      );

      // The status tells where to go on from: everything up to the cut, or the last whole chunk.
      const end = await settledStatus(upload);
      assert.ok(
        end >= chunk1 - 1 && end <= chunk1 + half - 1,
        `resume offset ${end + 1} within [${chunk1}, ${chunk1 + half}]`,
      );
      t.diagnostic(
        `after the cut at byte ${chunk1 + half} the server resumes at ${end + 1} ` +
          `(${end + 1 - chunk1} bytes of the cut PATCH kept)`,
      );
      const r2 = await upload.patch(data.subarray(end + 1, chunk2End), end + 1);
      assert.equal(r2.status, 202, describeReply("PATCH (resumed)", upload.location, r2));
      assert.equal(rangeEnd(r2), chunk2End - 1);

      // A clean stop (SIGTERM), and a new process on the same data directory and port.
      assert.equal(await current.stop(), 0, `clean exit on SIGTERM:\n${current.output()}`);
      current = await startInstance({ dataDir, port, keepData: true });
      upload.rebase(current.url);
      assert.equal((await upload.status()).end, chunk2End - 1, "offset survives a restart");

      const r3 = await upload.patch(data.subarray(chunk2End, 4 * MiB), chunk2End);
      assert.equal(r3.status, 202, describeReply("PATCH (after restart)", upload.location, r3));
      assert.equal(rangeEnd(r3), 4 * MiB - 1);

      // A crash (SIGKILL) after an acknowledged chunk loses nothing either.
      await current.kill();
      current = await startInstance({ dataDir, port, keepData: true });
      upload.rebase(current.url);
      assert.equal((await upload.status()).end, 4 * MiB - 1, "offset survives a crash");

      const done = await upload.finish(sha256(data), data.subarray(4 * MiB));
      assert.equal(done.status, 201, describeReply("PUT", upload.location, done));
      assert.equal(done.headers.get("docker-content-digest"), sha256(data));
      await verifyBlob(current, "e2e/resume", data);
      await expectUploadGone(upload);

      // And the committed blob is still there after one more restart.
      await current.stop();
      current = await startInstance({ dataDir, port, keepData: true });
      await verifyBlob(current, "e2e/resume", data);
    } finally {
      await current.dispose();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * Blob uploads over raw HTTP against a real Flotilla process, following the OCI Distribution
 * Spec v1.1: single-POST and chunked uploads, out-of-order chunks, wrong digests.
 * (Resuming after a disconnect or a restart: upload-resume.test.ts.)
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Instance, startInstance } from "../helpers/instance.ts";
import { randomBytes, sha256 } from "../helpers/oci-layout.ts";
import {
  describeReply,
  expectUploadGone,
  MiB,
  rangeEnd,
  send,
  startUpload,
  Upload,
  verifyBlob,
} from "./upload-client.ts";

describe("blob uploads over HTTP", { timeout: 300_000 }, () => {
  let instance: Instance;

  before(async () => {
    instance = await startInstance();
  });

  after(async () => {
    await instance?.dispose();
  });

  it("completes a single-POST upload, or POST then PUT where the registry asks for it", async () => {
    const data = randomBytes(300_000);
    const digest = sha256(data);
    const url = `${instance.url}/v2/e2e/uploads/blobs/uploads/?digest=${digest}`;
    const headers = {
      "Content-Type": "application/octet-stream",
      "Content-Length": String(data.length),
    };
    let reply = await send(url, { method: "POST", headers, body: data });
    if (reply.status === 202) {
      // The spec lets a registry ignore the body of a single POST and answer like a plain POST.
      const upload = new Upload(instance.url, reply.headers.get("location") ?? "");
      reply = await upload.finish(digest, data);
    }
    assert.equal(reply.status, 201, describeReply("POST", url, reply));
    assert.equal(reply.headers.get("docker-content-digest"), digest);
    assert.equal(
      new URL(reply.headers.get("location") ?? "", instance.url).pathname,
      `/v2/e2e/uploads/blobs/${digest}`,
    );
    await verifyBlob(instance, "e2e/uploads", data);
  });

  it("uploads in chunks, rejects an out-of-order chunk, and rejects a wrong digest", async () => {
    const data = randomBytes(3 * MiB + 333);
    const upload = await startUpload(instance, "e2e/uploads");

    let offset = 0;
    for (const size of [MiB, MiB + 100]) {
      const chunk = data.subarray(offset, offset + size);
      const reply = await upload.patch(chunk, offset);
      assert.equal(reply.status, 202, describeReply("PATCH", upload.location, reply));
      offset += size;
      assert.equal(rangeEnd(reply), offset - 1);
      assert.ok(reply.headers.get("location"));
    }
    assert.equal((await upload.status()).end, offset - 1);

    // A chunk that does not start where the last one ended is refused with 416.
    const skipped = await upload.patch(data.subarray(offset + 10, offset + 20), offset + 10);
    assert.equal(skipped.status, 416, describeReply("PATCH (gap)", upload.location, skipped));
    const overlap = await upload.patch(data.subarray(offset - 10, offset + 10), offset - 10);
    assert.equal(overlap.status, 416, describeReply("PATCH (overlap)", upload.location, overlap));
    assert.equal((await upload.status()).end, offset - 1, "rejected chunks change nothing");

    // A wrong digest on the closing PUT is DIGEST_INVALID and stores nothing under it.
    const wrong = sha256("something else");
    const bad = await upload.finish(wrong, data.subarray(offset));
    assert.equal(bad.status, 400, describeReply("PUT (wrong digest)", upload.location, bad));
    const error = JSON.parse(bad.body.toString("utf8")) as { errors: { code: string }[] };
    assert.equal(error.errors[0]?.code, "DIGEST_INVALID");
    const missing = await send(`${instance.url}/v2/e2e/uploads/blobs/${wrong}`, {
      method: "HEAD",
    });
    assert.equal(missing.status, 404);

    // The same bytes again, this time finished properly with the final chunk in the PUT.
    const again = await startUpload(instance, "e2e/uploads");
    const first = await again.patch(data.subarray(0, 2 * MiB), 0);
    assert.equal(first.status, 202, describeReply("PATCH", again.location, first));
    const done = await again.finish(sha256(data), data.subarray(2 * MiB));
    assert.equal(done.status, 201, describeReply("PUT", again.location, done));
    assert.equal(done.headers.get("docker-content-digest"), sha256(data));
    await verifyBlob(instance, "e2e/uploads", data);
    await expectUploadGone(again);
  });
});

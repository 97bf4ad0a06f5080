/** The file sender reuses its buffers across downloads: concurrent and slow readers never mix bytes. */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { openSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { test } from "node:test";
import { sendFileRange } from "./file-sender.ts";

/** A socket-like sink that takes its time, so buffers stay lent while others are sent. */
function slowSink(delayMs: number): { sink: Writable; digest: () => string } {
  const hash = createHash("sha256");
  const sink = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _encoding, done) {
      // Copy-free on purpose: a buffer reused too early would change what is hashed later.
      setTimeout(() => {
        hash.update(chunk);
        done();
      }, delayMs);
    },
  });
  return { sink, digest: () => hash.digest("hex") };
}

test("concurrent downloads of different files each get exactly their own bytes", async () => {
  const dir = await mkdtemp(join(tmpdir(), "flotilla-sender-"));
  try {
    const sizes = [1, 70_000, 1 << 20, (3 << 20) + 17, 5000];
    const files = await Promise.all(
      sizes.map(async (size, i) => {
        const bytes = randomBytes(size);
        const path = join(dir, `f${i}`);
        await writeFile(path, bytes);
        return { path, bytes, sha: createHash("sha256").update(bytes).digest("hex") };
      }),
    );
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        files.flatMap((file, i) =>
          [0, 1, 2, 3].map(async (copy) => {
            const { sink, digest } = slowSink(((i + copy) % 3) * 5);
            await sendFileRange(openSync(file.path, "r"), 0, file.bytes.length - 1, sink);
            assert.equal(digest(), file.sha, `file ${i}, copy ${copy}, round ${round}`);
          }),
        ),
      );
    }
    // A range in the middle, after buffers of every size went back to the pool.
    const big = files[3] as (typeof files)[number];
    const { sink, digest } = slowSink(0);
    await sendFileRange(openSync(big.path, "r"), 1000, 2_500_000, sink);
    const expected = createHash("sha256").update(big.bytes.subarray(1000, 2_500_001)).digest("hex");
    assert.equal(digest(), expected);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

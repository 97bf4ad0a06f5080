import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { tuneHeap } from "./heap.ts";

test("an operator's own --heap-growing-percent is left alone", () => {
  assert.equal(tuneHeap(["--heap-growing-percent=50"]), false);
  assert.equal(tuneHeap(["--max-semi-space-size=1", "--heap_growing_percent=0"]), false);
});

test("without one, the server sets V8's growing factor", () => {
  // In a child, so the test runner's own heap is not retuned; V8 accepts the flag it sets.
  const script = `import { tuneHeap } from ${JSON.stringify(new URL("./heap.ts", import.meta.url).href)};
    process.stdout.write(String(tuneHeap([])));`;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
  });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout, "true");
  assert.doesNotMatch(child.stderr, /unknown|Error/i);
});

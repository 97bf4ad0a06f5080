import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CarWriter } from "@ipld/car";
import type { CID } from "multiformats/cid";
import { carHeader, carSection, MissingBlockError, walkDag } from "./car.ts";
import { importBlob } from "./importer.ts";
import { patternBytes, unevenPieces } from "./test-support.ts";

const layout = { chunkSize: 100, maxLinksPerNode: 4 };
const bytes = patternBytes(3000, "car");
const dag = await importBlob(unevenPieces(bytes), bytes.length, { layout });
const blocks = new Map<string, Uint8Array>();
for (const node of dag.nodes) blocks.set(node.cid.toString(), node.bytes);
for (const leaf of dag.leaves) {
  blocks.set(leaf.cid.toString(), bytes.subarray(leaf.offset, leaf.offset + leaf.length));
}
const root = { cid: dag.cid, bytes: blocks.get(dag.cid.toString()) as Uint8Array };

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}

describe("CAR writing", () => {
  it("frames header and sections byte for byte as @ipld/car does", async () => {
    const { writer, out } = CarWriter.create([dag.cid]);
    const expected = collect(out);
    const ours: Uint8Array[] = [carHeader(dag.cid)];
    for (const node of dag.nodes.slice(0, 3)) {
      await writer.put(node);
      ours.push(...carSection(node));
    }
    await writer.close();
    assert.ok(Buffer.concat(ours).equals(await expected));
  });

  it("keeps at most `window` fetches in flight per node and stops them on early return", async () => {
    let inFlight = 0;
    let most = 0;
    const signals: AbortSignal[] = [];
    const getBlock = async (cid: CID, options: { signal?: AbortSignal }) => {
      if (options.signal) signals.push(options.signal);
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight--;
      return blocks.get(cid.toString());
    };
    let count = 0;
    for await (const _ of walkDag(root, getBlock, { window: 2 })) count++;
    assert.equal(count, dag.nodes.length + dag.leaves.length);
    // one window per level of the tree at most
    assert.ok(most <= 2 * 4, `at most ${most} in flight`);
    for await (const _ of walkDag(root, getBlock, { window: 2 })) break;
    assert.ok(signals.at(-1)?.aborted);
  });

  it("throws MissingBlockError for a missing child", async () => {
    const getBlock = async (cid: CID) =>
      cid.equals(dag.leaves[5]?.cid) ? undefined : blocks.get(cid.toString());
    await assert.rejects(async () => {
      for await (const _ of walkDag(root, getBlock)) {
        // drain
      }
    }, MissingBlockError);
  });
});

import assert from "node:assert/strict";
import { it } from "node:test";

it("keeps @helia/libp2p's defaults unloaded, withLibp2pLight still there", async () => {
  await import("./lean-deps.ts");
  const helia = await import("@helia/libp2p");
  assert.equal(typeof helia.withLibp2pLight, "function");
  assert.throws(() => helia.libp2pDefaults(), /not loaded in Flotilla/);
});

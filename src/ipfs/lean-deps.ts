/**
 * Keeps what Flotilla never runs out of the heap. `@helia/libp2p` loads its `libp2pDefaults`
 * (WebRTC, WebSockets, circuit relay, AutoTLS, UPnP, mDNS, the DHT...) with `withLibp2pLight`,
 * which needs none of it: about 15 MB of heap for module code alone. A larger old space makes
 * every mark-compact dearer, and an upload sets off a few dozen of them (its socket buffers are
 * external memory), so those megabytes cost CPU during every push.
 *
 * Import this module before anything under src/ipfs/ is loaded (src/instance.ts does); it only
 * redirects that one import of that one package, so without it everything works the same.
 */
import { registerHooks } from "node:module";

const stub = `data:text/javascript,${encodeURIComponent(
  "export function libp2pDefaults() { throw new Error('libp2pDefaults is not loaded in Flotilla (src/ipfs/lean-deps.ts)'); }",
)}`;

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (
      specifier === "./utils/libp2p-defaults.js" &&
      context.parentURL?.includes("/node_modules/@helia/libp2p/")
    ) {
      return { url: stub, shortCircuit: true };
    }
    return nextResolve(specifier, context);
  },
});

/**
 * How far V8 lets the heap grow between full collections, for the server process.
 *
 * On a heap as small as Flotilla's (30–45 MB live), V8 sets the next full collection at about
 * 1.3× what survived the last one. Every request body arrives in fresh 64 KiB buffers, and a
 * 512 MiB upload crossed that limit about 20 times: each time a full mark-compact of the whole
 * heap, about 0.7 s of the 2.1 s of CPU the upload cost with the IPFS node loaded. Letting the
 * heap grow to 2× what survived (`--heap-growing-percent=100`, what Go's GOGC=100 does for the
 * registry we compare with) leaves 8–12 mark-compacts and about 1.3 s of CPU, with IPFS on or
 * off. 3× left none and 0.9 s, but kept 30–40 MB more resident after a busy minute.
 *
 * The young generation matters as much: with 1 MB semi-spaces (`--max-semi-space-size=1`, which
 * `npm start` and `bin/flotilla` pass) young collections come often enough to free the body
 * buffers, and with this growth a 512 MiB upload runs 0–1 mark-compacts; with 2 MB it ran 6–11.
 *
 * An operator's own `node --heap-growing-percent=N` wins.
 */
import { setFlagsFromString } from "node:v8";

export const HEAP_GROWING_PERCENT = 100;

export function tuneHeap(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg))) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}

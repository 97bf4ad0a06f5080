/**
 * How far V8 lets the heap grow between full collections, for the server process.
 *
 * On a heap as small as Flotilla's (30–45 MB live), V8 sets the next full collection at about
 * 1.3× what survived the last one. Every request body arrives in fresh 64 KiB buffers, and a
 * 512 MiB upload crossed that limit about 20 times: each time a full mark-compact of the whole
 * heap, about 0.9 s of the 2.1 s of CPU the upload cost (1.35 s with the IPFS node's extra
 * heap). Letting the heap grow to 3× what survived (`--heap-growing-percent=200`) leaves 0–1
 * mark-compacts per 512 MiB, takes CPU down to 0.9 s, and costs no idle memory and about 10 MB
 * at peak. Go, the runtime of the registry we compare with, grows its heap to 2× (GOGC=100).
 *
 * An operator's own `node --heap-growing-percent=N` wins.
 */
import { setFlagsFromString } from "node:v8";

export const HEAP_GROWING_PERCENT = 200;

export function tuneHeap(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg))) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}

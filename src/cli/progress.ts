/** Progress bars for long CLI work: on stderr when it is a terminal, nothing otherwise. */
import { SingleBar } from "cli-progress";

export interface ProgressUpdate {
  phase: string;
  done: number;
  total: number;
}

/** A callback that draws `phase [bar] done/total`; undefined when stderr is not a terminal. */
export function progressBar(
  format = "{phase} [{bar}] {value}/{total}",
): ((p: ProgressUpdate) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  const bar = new SingleBar({
    stream: process.stderr,
    format,
    clearOnComplete: true,
    hideCursor: true,
  });
  let started = false;
  return ({ phase, done, total }) => {
    if (!started) {
      bar.start(Math.max(total, 1), done, { phase });
      started = true;
    }
    bar.setTotal(Math.max(total, done, 1));
    bar.update(done, { phase });
    if (total > 0 && done >= total) bar.stop();
  };
}

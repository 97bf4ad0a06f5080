/** Runs the `flotilla` CLI as an operator would, against an instance's data directory. */
import { execFile } from "node:child_process";

const root = new URL("../..", import.meta.url).pathname;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function flotilla(
  dataDir: string,
  args: string[],
  input?: string,
  env: Record<string, string> = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [`${root}src/main.ts`, ...args],
      { cwd: root, env: { ...process.env, FLOTILLA_DATA_DIR: dataDir, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: unknown }).code ?? 1) : 0;
        resolve({ code: Number.isFinite(code) ? code : 1, stdout, stderr });
      },
    );
    child.stdin?.end(input ?? "");
  });
}

/** Child processes (tracked so they can be killed on any exit) and /proc readers. */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";

const children = new Set<ChildProcess>();

/** Remembers a child so that `killAll` ends it on exit or interrupt. */
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGTERM every tracked child that is still running, then SIGKILL after `graceMs`. */
export async function killAll(graceMs = 5_000): Promise<void> {
  const running = [...children].filter(alive);
  await Promise.all(
    running.map(
      (child) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            if (alive(child)) child.kill("SIGKILL");
          }, graceMs);
          child.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill("SIGTERM");
        }),
    ),
  );
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall-clock seconds from spawn to exit. */
  seconds: number;
}

/** Runs a command to completion, capturing its output; rejects on a non-zero exit. */
export async function run(
  command: string,
  args: string[],
  options: { timeoutMs?: number; allowFailure?: boolean } = {},
): Promise<RunResult> {
  const started = performance.now();
  const child = track(spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] }));
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const timeoutMs = options.timeoutMs ?? 600_000;
  const timer = setTimeout(() => {
    if (alive(child)) child.kill("SIGKILL");
  }, timeoutMs);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (c) => resolve(c));
  });
  clearTimeout(timer);
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0 && !options.allowFailure) {
    throw new Error(
      `${command} ${args.join(" ")} exited with ${code} after ${seconds.toFixed(1)} s\n${stderr}${stdout}`,
    );
  }
  return { code, stdout, stderr, seconds };
}

let clockTicks = 100;
try {
  clockTicks = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
} catch {
  // keep the Linux default
}

/** User + system CPU seconds a process has used so far. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may contain spaces.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return (utime + stime) / clockTicks;
}

/** Reads VmRSS and VmHWM (peak RSS) of a process, in bytes. */
export async function memory(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  };
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

/** Resets VmHWM to the current RSS (Linux: `echo 5 > /proc/<pid>/clear_refs`). */
export async function resetPeak(pid: number): Promise<boolean> {
  try {
    await writeFile(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** Samples VmRSS every `intervalMs` until stopped; resolves to the highest value seen. */
export function sampleRss(pid: number, intervalMs = 100): () => Promise<number> {
  let max = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        max = Math.max(max, (await memory(pid)).rss);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    return max;
  };
}

/**
 * Waits until a process is idle (under 5% of a core for two 250 ms samples in a row), so that
 * background work left over from one phase does not slow the next. Returns the seconds waited
 * and the CPU seconds the process used meanwhile.
 */
export async function waitIdle(
  pid: number,
  maxSeconds = 60,
): Promise<{ seconds: number; cpu: number }> {
  const started = performance.now();
  const cpuStart = await cpuSeconds(pid);
  let last = cpuStart;
  let quiet = 0;
  while ((performance.now() - started) / 1000 < maxSeconds) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await cpuSeconds(pid);
    quiet = now - last < 0.0125 ? quiet + 1 : 0;
    last = now;
    if (quiet >= 2) break;
  }
  return { seconds: (performance.now() - started) / 1000, cpu: last - cpuStart };
}

/** Aggregates samples (median of runs) and renders the side-by-side table. */

export interface MetricDef {
  key: string;
  label: string;
  unit: string;
  /** Which direction is better; ratios are always oriented so that > 1.0 favours Flotilla. */
  better: "lower" | "higher";
  /** Bar for the ratio Flotilla/Distribution (default 1.0). */
  minRatio?: number;
  /** Absolute bar for Flotilla's value instead of a ratio bar (e.g. peak RSS in MB). */
  maxValue?: number;
}

export interface Row {
  metric: string;
  label: string;
  unit: string;
  flotilla?: number;
  distribution?: number;
  ratio?: number;
  bar: string;
  pass?: boolean;
  runs: Record<string, number[]>;
}

export function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function digits(unit: string, value: number): number {
  if (unit === "s") return value < 10 ? 2 : 1;
  if (unit === "ms") return value < 10 ? 2 : 1;
  return value < 10 ? 1 : 0;
}

export function format(value: number | undefined, unit: string): string {
  if (value === undefined || !Number.isFinite(value)) return "n/a";
  return value.toFixed(digits(unit, value));
}

export function cell(values: number[], unit: string): string {
  const m = median(values);
  if (m === undefined) return "FAILED";
  if (values.length < 2) return `${format(m, unit)} ${unit}`;
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return `${format(m, unit)} ${unit} (${format(lo, unit)}-${format(hi, unit)})`;
}

export function pad(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  }
  return rows
    .map((row, r) => {
      const line = row.map((c, i) =>
        i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0),
      );
      const text = line.join("  ").trimEnd();
      return r === 0 ? `${text}\n${"-".repeat(text.length)}` : text;
    })
    .join("\n");
}

export function renderTable(
  metrics: MetricDef[],
  details: MetricDef[],
  samples: Record<string, Record<string, number>[]>,
  names: string[],
): { text: string; rows: Row[]; medians: Record<string, Record<string, number | undefined>> } {
  const both = names.includes("flotilla") && names.includes("distribution");
  const valuesOf = (name: string, key: string) =>
    (samples[name] ?? []).map((s) => s[key]).filter((v): v is number => typeof v === "number");

  const build = (defs: MetricDef[]): Row[] =>
    defs.map((def) => {
      const runs: Record<string, number[]> = {};
      for (const name of names) runs[name] = valuesOf(name, def.key);
      const f = median(runs.flotilla ?? []);
      const d = median(runs.distribution ?? []);
      let ratio: number | undefined;
      if (f !== undefined && d !== undefined && f > 0 && d > 0) {
        ratio = def.better === "lower" ? d / f : f / d;
      }
      let bar: string;
      let pass: boolean | undefined;
      if (def.maxValue !== undefined) {
        bar = `< ${def.maxValue} ${def.unit}`;
        pass = f === undefined ? undefined : f < def.maxValue;
      } else {
        const min = def.minRatio ?? 1;
        bar = `>= ${min.toFixed(1)}`;
        pass = ratio === undefined ? undefined : ratio >= min;
      }
      return {
        metric: def.key,
        label: def.label,
        unit: def.unit,
        flotilla: f,
        distribution: d,
        ratio,
        bar,
        pass,
        runs,
      };
    });

  const rows = build(metrics);
  const detailRows = build(details);
  const header = [
    "metric",
    ...names.map((n) => (n === "flotilla" ? "Flotilla (IPFS off)" : "Distribution")),
  ];
  const main: string[][] = [both ? [...header, "ratio", "bar", ""] : header];
  for (const row of rows) {
    const line = [row.label, ...names.map((n) => cell(row.runs[n] ?? [], row.unit))];
    if (both) {
      const verdict = row.pass === undefined ? "" : row.pass ? "ok" : "BELOW BAR";
      line.push(row.ratio === undefined ? "n/a" : `${row.ratio.toFixed(2)}x`, row.bar, verdict);
    }
    main.push(line);
  }
  const extra: string[][] = [["server detail (median)", ...header.slice(1)]];
  for (const row of detailRows) {
    if (names.every((n) => (row.runs[n] ?? []).length === 0)) continue;
    extra.push([
      row.label,
      ...names.map((n) => `${format(median(row.runs[n] ?? []), row.unit)} ${row.unit}`),
    ]);
  }
  const note = both
    ? "ratio: Distribution/Flotilla for times and RSS, Flotilla/Distribution for rates; > 1.0 favours Flotilla. Cells: median (min-max) of runs."
    : "Cells: median (min-max) of runs.";

  const medians: Record<string, Record<string, number | undefined>> = {};
  for (const name of names) {
    medians[name] = {};
    for (const row of [...rows, ...detailRows]) {
      const m = median(row.runs[name] ?? []);
      (medians[name] as Record<string, number | undefined>)[row.metric] = m;
    }
  }
  return {
    text: `${pad(main)}\n${note}\n\n${pad(extra)}`,
    rows: [...rows, ...detailRows],
    medians,
  };
}

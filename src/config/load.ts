/** Loads the YAML file, overlays environment variables, validates, and explains what is wrong. */
import { existsSync, readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { type Config, configSchema, envAliases } from "./schema.ts";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

interface Leaf {
  path: string[];
  kind: "number" | "boolean" | "array" | "string" | "boolean-or-list";
}

/** Every settable key with its environment variable, e.g. `server.host` → FLOTILLA_SERVER_HOST. */
export function configKeys(): Array<{ key: string; env: string; kind: Leaf["kind"] }> {
  return leaves(configSchema, []).map((leaf) => ({
    key: leaf.path.join("."),
    env: envName(leaf.path),
    kind: leaf.kind,
  }));
}

export function envName(path: string[]): string {
  return `FLOTILLA_${path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()).join("_")}`;
}

/**
 * Reads `file` (if given, or ./flotilla.yaml when present), applies `env`, validates.
 * Throws ConfigError with one line per problem, naming the key and where its value came from.
 */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Config {
  const path =
    file ?? env.FLOTILLA_CONFIG ?? (existsSync("flotilla.yaml") ? "flotilla.yaml" : undefined);
  let raw: unknown = {};
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (error) {
      throw new ConfigError(`config file ${path} is not valid YAML: ${(error as Error).message}`);
    }
    if (typeof raw !== "object" || Array.isArray(raw)) {
      throw new ConfigError(`config file ${path} must hold a mapping of keys`);
    }
  }
  const sources = new Map<string, string>();
  const merged = structuredClone(raw) as Record<string, unknown>;
  const byEnv = new Map(configKeys().map((k) => [k.env, k]));
  for (const [alias, key] of Object.entries(envAliases)) {
    const target = configKeys().find((k) => k.key === key);
    if (target) byEnv.set(alias, target);
  }
  for (const [name, key] of byEnv) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    setPath(merged, key.key.split("."), fromEnv(value, key.kind));
    sources.set(key.key, name);
  }
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const key = issue.path.join(".") || "(top level)";
      const from = sources.get(key) ?? (path ? path : "defaults");
      const unknown = issue.code === "unrecognized_keys" ? ` ${issue.keys.join(", ")}` : "";
      return `  ${key}: ${issue.message}${unknown} (from ${from})`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  const config = result.data;
  return {
    ...config,
    publicUrl: (config.publicUrl ?? `http://localhost:${config.port}`).replace(/\/+$/, ""),
  };
}

function fromEnv(value: string, kind: Leaf["kind"]): unknown {
  const lower = value.trim().toLowerCase();
  const flag = ["1", "true", "yes", "on"].includes(lower)
    ? true
    : ["0", "false", "no", "off"].includes(lower)
      ? false
      : undefined;
  if (kind === "boolean") return flag ?? value;
  if (kind === "boolean-or-list" && flag !== undefined) return flag;
  if (kind === "array" || kind === "boolean-or-list") {
    return value
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean);
  }
  return value;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    if (typeof node[part] !== "object" || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[path.at(-1) as string] = value;
}

// zod has no public walker; this reads the schema definitions to list keys for the env mapping.
function leaves(schema: z.ZodType, path: string[]): Leaf[] {
  const inner = unwrap(schema);
  const def = inner._zod.def as {
    type: string;
    shape?: Record<string, z.ZodType>;
    options?: z.ZodType[];
  };
  if (def.type === "object" && def.shape) {
    return Object.entries(def.shape).flatMap(([key, child]) => leaves(child, [...path, key]));
  }
  if (def.type === "union" && def.options) {
    const kinds = def.options.map((o) => unwrap(o)._zod.def.type);
    const list = kinds.includes("array");
    const flag = kinds.includes("boolean");
    return [
      {
        path,
        kind: list && flag ? "boolean-or-list" : list ? "array" : flag ? "boolean" : "string",
      },
    ];
  }
  if (def.type === "array") return [{ path, kind: "array" }];
  if (def.type === "boolean") return [{ path, kind: "boolean" }];
  if (def.type === "number") return [{ path, kind: "number" }];
  return [{ path, kind: "string" }];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    const def = current._zod.def as { type: string; innerType?: z.ZodType; in?: z.ZodType };
    if (def.innerType) current = def.innerType;
    else if (def.type === "pipe" && def.in) current = def.in;
    else return current;
  }
}

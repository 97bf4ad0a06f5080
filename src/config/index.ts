export { ConfigError, configKeys, envName, loadConfig } from "./load.ts";
export type { Config } from "./schema.ts";

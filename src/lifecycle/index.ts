export { type CreateLifecycleDeps, createLifecycle } from "./create.ts";
export { FsBlobFiles } from "./fs-blob-files.ts";
export { GarbageCollector, type GcDeps } from "./gc.ts";
export { Lifecycle, type LifecycleDeps, type LifecycleOptions } from "./lifecycle.ts";
export { type GcPlan, keptManifests, planGc } from "./plan.ts";
export { QuotaService, type QuotaUsage } from "./quota.ts";
export { policyFor, RetentionService, repositoryPattern } from "./retention.ts";
export * from "./types.ts";

export {
  AccountError,
  AccountService,
  type AccountServiceOptions,
  minPasswordLength,
} from "./accounts.ts";
export { LoginLimiter, type LoginLimiterOptions } from "./login-limiter.ts";
export { hashPassword, verifyPassword } from "./passwords.ts";
export { AccessPolicy, namespaceOf } from "./policy.ts";
export * from "./types.ts";

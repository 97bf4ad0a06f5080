export { openAccess, type RequestAccess } from "./access.ts";
export { requireAdmin } from "./admin.ts";
export { type AuthDeps, openAuthMiddleware, tokenAuthMiddleware } from "./middleware.ts";
export { parseScopes, type Scope } from "./scopes.ts";
export { registerTokenRoutes, type TokenRouteDeps } from "./token-route.ts";
export { TokenSigner, type TokenSignerOptions } from "./token-signer.ts";

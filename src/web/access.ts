/** Who may see and change what, for pages and the JSON API (the registry's own policy underneath). */
import { namespaceOf } from "../accounts/index.ts";
import { OciError } from "../registry/index.ts";
import type { Viewer, WebDeps } from "./types.ts";

export class WebAccess {
  readonly #deps: Pick<WebDeps, "policy">;

  constructor(deps: Pick<WebDeps, "policy">) {
    this.#deps = deps;
  }

  /** Whether the viewer may see (pull) a repository; private ones are invisible to outsiders. */
  async canRead(viewer: Viewer, repository: string): Promise<boolean> {
    const policy = this.#deps.policy;
    if (!policy) return true;
    return policy.allows(viewer.principal, repository, "pull");
  }

  async canPush(viewer: Viewer, repository: string): Promise<boolean> {
    const policy = this.#deps.policy;
    if (!policy) return true;
    return viewer.user !== undefined && policy.allows(viewer.principal, repository, "push");
  }

  /** Whether the viewer manages a namespace (members, visibility, descriptions). */
  async canAdminister(viewer: Viewer, namespace: string): Promise<boolean> {
    const policy = this.#deps.policy;
    if (!policy) return true;
    return policy.canAdminister(viewer.principal, namespace);
  }

  /** Throws NAME_UNKNOWN unless readable: a private repository and a missing one look the same. */
  async requireRead(viewer: Viewer, repository: string): Promise<void> {
    if (!(await this.canRead(viewer, repository))) {
      throw new OciError("NAME_UNKNOWN", "repository name not known to registry", {
        detail: { name: repository },
      });
    }
  }

  /** Throws unless the viewer may change the repository's description and visibility. */
  async requireManage(viewer: Viewer, repository: string): Promise<void> {
    await this.requireRead(viewer, repository);
    if (!viewer.open) this.requireUser(viewer);
    if (!(await this.canAdminister(viewer, namespaceOf(repository)))) {
      throw new OciError("DENIED", "only the namespace's owners may change this");
    }
  }

  /** Throws UNAUTHORIZED for anonymous callers; returns the user name. */
  requireUser(viewer: Viewer): string {
    if (!viewer.user) throw new OciError("UNAUTHORIZED", "sign in first");
    return viewer.user;
  }

  requireAdmin(viewer: Viewer): void {
    if (viewer.open) return;
    this.requireUser(viewer);
    if (!viewer.admin || (viewer.principal.scope && viewer.principal.scope !== "admin")) {
      throw new OciError("DENIED", "administrators only");
    }
  }
}

/** The mirror: repositories of other registries kept and served here under `<remote-host>/<name>`. */
export { OriginBlobSource } from "./blob-source.ts";
export { type CidSource, ipfsManifestFetcher } from "./ipfs-manifests.ts";
export { type CidFetcher, ManifestImporter } from "./manifests.ts";
export { createMirror, type MirrorDeps, type MirrorOptions, RegistryMirror } from "./mirror.ts";
export { hostNamespace, mirroredName, plainRegistryActor, registryOrigin } from "./names.ts";
export { OriginClient, parseChallenge } from "./origin-client.ts";
export { SqliteMirrorStore, type TagEvidence, type TrackedRepository } from "./store.ts";
export type * from "./types.ts";

/** Manifest media types the registry stores, and the families they belong to. */
export const mediaTypes = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociEmpty: "application/vnd.oci.empty.v1+json",
} as const;

export const schema1MediaTypes = new Set([
  "application/vnd.docker.distribution.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v1+prettyjws",
]);

export type ManifestKind = "image" | "index";

/** Known manifest media types and whether each is an image manifest or an index. */
export const manifestKinds: ReadonlyMap<string, ManifestKind> = new Map([
  [mediaTypes.ociManifest, "image"],
  [mediaTypes.dockerManifest, "image"],
  [mediaTypes.ociIndex, "index"],
  [mediaTypes.dockerManifestList, "index"],
]);

/** Layer media types that may legitimately live elsewhere (foreign / non-distributable). */
export function isForeignLayer(mediaType: string): boolean {
  return (
    mediaType === "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" ||
    mediaType.startsWith("application/vnd.oci.image.layer.nondistributable.")
  );
}

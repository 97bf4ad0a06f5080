/** Parses and validates pushed manifests: structure, media type, digests and what they reference. */
import { z } from "zod";
import { parseDigest } from "./digest.ts";
import { ManifestInvalidError, type OciError } from "./errors.ts";
import {
  isForeignLayer,
  type ManifestKind,
  manifestKinds,
  mediaTypes,
  schema1MediaTypes,
} from "./media-types.ts";

const digestString = z.string().refine(
  (value) => {
    try {
      parseDigest(value);
      return true;
    } catch {
      return false;
    }
  },
  { message: "invalid digest" },
);

const annotations = z.record(z.string(), z.string());

const descriptor = z.object({
  mediaType: z.string().min(1).max(255),
  digest: digestString,
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  urls: z.array(z.string()).optional(),
  annotations: annotations.optional(),
  artifactType: z.string().max(255).optional(),
  platform: z
    .object({
      architecture: z.string(),
      os: z.string(),
      "os.version": z.string().optional(),
      "os.features": z.array(z.string()).optional(),
      variant: z.string().optional(),
    })
    .optional(),
});

export type Descriptor = z.infer<typeof descriptor>;

const imageManifest = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().max(255).optional(),
  config: descriptor,
  layers: z.array(descriptor),
  subject: descriptor.optional(),
  annotations: annotations.optional(),
});

const indexManifest = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().max(255).optional(),
  manifests: z.array(descriptor),
  subject: descriptor.optional(),
  annotations: annotations.optional(),
});

export interface ParsedManifest {
  mediaType: string;
  kind: ManifestKind;
  /** Blobs that must exist in the repository. */
  blobs: Descriptor[];
  /** Child manifests that must exist in the repository (indexes). */
  manifests: Descriptor[];
  subject?: Descriptor;
  /** `artifactType`, or for image manifests the config media type, as the referrers API wants. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

const genericContentTypes = new Set(["", "application/json", "application/octet-stream"]);

/** Validates manifest bytes pushed with `contentType`; throws MANIFEST_INVALID saying why. */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined): ParsedManifest {
  const declared = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (schema1MediaTypes.has(declared)) {
    throw new ManifestInvalidError("Docker schema 1 manifests are not supported");
  }
  if (!genericContentTypes.has(declared) && !manifestKinds.has(declared)) {
    throw new ManifestInvalidError(`unsupported manifest media type "${declared.slice(0, 100)}"`);
  }

  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new ManifestInvalidError("manifest is not valid UTF-8 JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ManifestInvalidError("manifest must be a JSON object");
  }
  const body = json as Record<string, unknown>;
  if (body.schemaVersion === 1) {
    throw new ManifestInvalidError("Docker schema 1 manifests are not supported");
  }
  const bodyType = typeof body.mediaType === "string" ? body.mediaType : undefined;
  if (
    bodyType !== undefined &&
    declared !== "" &&
    !genericContentTypes.has(declared) &&
    bodyType !== declared
  ) {
    throw new ManifestInvalidError(
      `Content-Type "${declared}" does not match the manifest's mediaType "${bodyType.slice(0, 100)}"`,
    );
  }
  const mediaType = manifestKinds.has(declared)
    ? declared
    : (bodyType ?? ("manifests" in body ? mediaTypes.ociIndex : mediaTypes.ociManifest));
  const kind = manifestKinds.get(mediaType);
  if (!kind)
    throw new ManifestInvalidError(`unsupported manifest media type "${mediaType.slice(0, 100)}"`);

  if (kind === "image") {
    const result = imageManifest.safeParse(body);
    if (!result.success) throw invalid(result.error);
    const m = result.data;
    const layers = m.layers.filter(
      (layer) => !(isForeignLayer(layer.mediaType) && layer.urls?.length),
    );
    return {
      mediaType,
      kind,
      blobs: [m.config, ...layers],
      manifests: [],
      subject: m.subject,
      artifactType: m.artifactType ?? m.config.mediaType,
      annotations: m.annotations,
    };
  }
  const result = indexManifest.safeParse(body);
  if (!result.success) throw invalid(result.error);
  const index = result.data;
  return {
    mediaType,
    kind,
    blobs: [],
    manifests: index.manifests,
    subject: index.subject,
    artifactType: index.artifactType,
    annotations: index.annotations,
  };
}

function invalid(error: z.ZodError): OciError {
  const issue = error.issues[0];
  const where = issue?.path.length ? issue.path.join(".") : "manifest";
  return new ManifestInvalidError(`${where}: ${issue?.message ?? "invalid"}`);
}

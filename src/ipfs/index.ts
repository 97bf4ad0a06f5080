/** The IPFS extension: zero-copy UnixFS import, the blockstore Helia serves from, and the node. */

export { type CidResolver, IpfsBlobSource, type IpfsBlobSourceDeps } from "./blob-source.ts";
export {
  BlockHashMismatchError,
  blockMatches,
  UnsupportedHashError,
  ZeroCopyBlockstore,
  type ZeroCopyBlockstoreDeps,
  type ZeroCopyBlockstoreOptions,
  type ZeroCopyPutOptions,
} from "./blockstore.ts";
export { CidContent, type CidManifest } from "./content.ts";
export {
  type DigestLookupHost,
  type DigestResolver,
  digestLookupProtocol,
  InvalidDigestError,
  isPlausibleRoot,
  isSha256Digest,
  type LookupDigestOptions,
  lookupDigest,
  type ServeDigestLookupsOptions,
  serveDigestLookups,
} from "./digest-lookup.ts";
export { type IpfsExtension, startIpfs } from "./extension.ts";
export { type BlockGetter, fetchFile, MalformedDagError, NotAFileError } from "./fetch.ts";
export { FsBlobRangeReader, TruncatedBlobError } from "./fs-range-reader.ts";
export {
  chunkSize,
  cidFromSha256Digest,
  ImportSizeError,
  importBlob,
  maxLinksPerNode,
  sha256DigestOfRawCid,
} from "./importer.ts";
export { MemoryCidIndex } from "./memory-cid-index.ts";
export {
  BlockUnavailableError,
  createIpfsNode,
  type FetchOptions,
  type IpfsNode,
  type IpfsNodeOptions,
  type PeerInfo,
} from "./node.ts";
export { SqliteCidIndex } from "./sqlite-cid-index.ts";
export type {
  BlobRangeReader,
  BlockLocation,
  CidIndex,
  DagNode,
  ImportedDag,
  LeafLocation,
} from "./types.ts";

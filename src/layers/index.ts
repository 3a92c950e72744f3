export { openContentStore, type ContentStore, type BlobInfo, type WriteOptions } from "./content-store.js";
export { chainIdOf, childChainId, digestHex, isDigest, sha256Digest, type Digest } from "./digest.js";
export { StoreError } from "./store-errors.js";
export { openStore, type Store, type OpenStoreOptions } from "./store.js";
export type {
  Snapshotter, ActiveSnapshot, CommittedLayer, CommitOptions, SnapshotView, SnapshotInfo, ApplyLayerOptions,
} from "./snapshots.js";
export { runInSnapshot } from "./snapshots-run.js";
export { diffToTar, changesToTar, type DiffTarOptions } from "./diff-tar.js";
export { upperDirChanges, treeChanges, type Change } from "./diff-changes.js";
export { compressLayer, type CompressOptions, type CompressedLayer } from "./compress.js";
export { unpackLayer, applyTar, type LayerForm, type UnpackOptions } from "./apply.js";
export { LayerEntryError } from "./apply-errors.js";
export { readTar, type TarEntry, type TarItem } from "./tar-reader.js";
export { encodeHeader, type TarHeader, type TarEntryType } from "./tar-header.js";
// Images: formats, the local image index, gc, export/import (layers-images).
export { MediaType, Annotation, isLayerMediaType, layerCompressionOf, ociLayerMediaType, type LayerCompression } from "./media-types.js";
export {
  ImageConfigSchema,
  ContainerConfigSchema,
  HealthcheckSchema,
  HistorySchema,
  parseImageConfig,
  type ImageConfig,
  type ContainerConfig,
  type Healthcheck,
  type HistoryEntry,
} from "./image-config.js";
export {
  DescriptorSchema,
  OciManifestSchema,
  OciIndexSchema,
  DockerManifestSchema,
  DockerManifestListSchema,
  PlatformSchema,
  parseManifest,
  dockerToOciManifest,
  dockerToOciIndex,
  mediaTypeOf,
  type Descriptor,
  type OciManifest,
  type OciIndex,
  type DockerManifest,
  type DockerManifestList,
  type ParsedManifest,
  type Platform,
} from "./manifest.js";
export { canonicalJson } from "./canonical-json.js";
export { ImageError, imageNotFound } from "./image-errors.js";
export { parseImageName, formatImageName, normalizeImageName, shortImageName, shortRepository, type ImageReference } from "./image-name.js";
export { hostPlatform, parsePlatform, formatPlatform, platformMatches, platformOfConfig } from "./image-platform.js";
export { defaultRoot } from "./default-root.js";
export { writeImage, writeManifest, readImage, readManifestBlob, scratchPath, type ImageStore, type LayerDescriptor, type WriteImageInput, type WrittenImage, type StoredImage } from "./image-store.js";
export {
  tagImage,
  resolveLocalImage,
  requireLocalImage,
  listImages,
  removeImage,
  addUntaggedImage,
  readLocalIndex,
  updateLocalIndex,
  type LocalImage,
  type ResolvedImage,
  type RemovedImage,
} from "./local-images.js";
export { walkImages, type ImageGraph, type WalkedImage } from "./image-walk.js";
export { gc, type GcOptions, type GcResult, type GcRoots, type GcStore } from "./gc.js";
export { exportOciLayout, exportOciArchive, exportDockerArchive, type ExportOptions, type DockerArchiveManifestEntry } from "./export.js";
export { importArchive, type ImportOptions, type ImportedImage } from "./import.js";
export { importRootfs, type ImportRootfsOptions, type ImportedRootfs } from "./import-rootfs.js";
// Names for temporary entries under tmp/ that openStore can tell are a dead process's leftovers.
export { ownedName, ownerAlive } from "./process-owner.js";

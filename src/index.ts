export { BuildImageError, isBuildImageError } from "./errors.js";
export { parseDockerfile, DockerfileError } from "./parser/index.js";
export type { Directive, Directives, DockerfileNode, DockerfilePosition, Heredoc, KeyValue, ParseResult, ParseWarning } from "./parser/index.js";
export {
  applyToEnv,
  createBuildPlan,
  envForStep,
  expandInstruction,
  expandWord,
  expandWordWithMatches,
  lintDockerfile,
  parseInstruction,
  parseOnbuildTriggers,
  splitWords,
  PLATFORM_ARGS,
  PROXY_ARGS,
} from "./instructions/index.js";
export type { BuildPlan, BuildPlanOptions, Instruction, LintResult, Mount, Platform, PlanWarning, ResolvedArg, SourceRef, Stage, StageBase } from "./instructions/index.js";
export { createRegistryClient, login, logout, parseReference, RegistryError, isRegistryError, hostPlatform, parsePlatform, resolveCredentials } from "./registry/index.js";
export type {
  RegistryClient,
  RegistryClientOptions,
  RegistryErrorCode,
  RegistryEvent,
  ImageReference,
  Platform as RegistryPlatform,
  PulledManifest,
  BlobSource,
  PushImageOptions,
  PushImageResult,
} from "./registry/index.js";
export {
  openStore,
  defaultRoot,
  writeImage,
  tagImage,
  resolveLocalImage,
  requireLocalImage,
  listImages,
  removeImage,
  gc,
  exportOciLayout,
  exportOciArchive,
  exportDockerArchive,
  importArchive,
  importRootfs,
  normalizeImageName,
  shortImageName,
  parseImageConfig,
  parseManifest,
  ImageError,
  MediaType,
} from "./layers/index.js";
export type { Store, ImageConfig, ContainerConfig, OciManifest, OciIndex, Descriptor, LocalImage, ResolvedImage, GcOptions, GcResult, ImportedImage } from "./layers/index.js";
export { runInSandbox, detectRuntime, cleanupStaleSandboxes, SandboxSpecError, SandboxSetupError, SandboxTimeoutError } from "./sandbox/index.js";
export type { Runtime, SandboxMount, SandboxUser, RunSpec, RunResult, RunOptions } from "./sandbox/index.js";
export { openCache, cacheKey, prune, du, acquireCacheMount, cacheMountDir, CacheError } from "./cache/index.js";
export type { Cache, CacheInputs, CacheRecord, CacheResult, CacheMount, CacheMountSharing, PruneOptions, PruneResult, DiskUsage } from "./cache/index.js";
export { build, runImage, buildOptionsSchema, BuildError, pullIntoStore, pushFromStore } from "./build/index.js";
export type { BuildOptions, BuildResult, BuildEvent, EventSink, RunImageOptions } from "./build/index.js";
export { exportCache, importCache } from "./cache/index.js";

export { build, type BuildResult } from "./build.js";
export { buildOptionsSchema, type BuildOptions } from "./options.js";
export type { BuildEvent, EventSink } from "./events.js";
export { BuildError } from "./errors.js";
export { runImage, type RunImageOptions } from "./run-image.js";
export { pullIntoStore, pushFromStore, registryClient, type RegistryOptions } from "./distribution.js";

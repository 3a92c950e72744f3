export { runInSandbox, detectRuntime, cleanupStaleSandboxes } from "./run.js";
export type { Runtime, SandboxMount, SandboxUser, RunSpec, RunResult, RunOptions } from "./types.js";
export { SandboxSpecError, SandboxSetupError, SandboxTimeoutError } from "./errors.js";
export { DEFAULT_PATH } from "./prepare.js";

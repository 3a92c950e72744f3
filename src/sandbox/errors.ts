import { BuildImageError } from "../errors.js";

/** A RunSpec the sandbox cannot honour (bad cwd, a mount target under /proc, …): the caller's mistake. */
export class SandboxSpecError extends BuildImageError {
  constructor(message: string, hint: string) {
    super("SANDBOX_BAD_SPEC", message, { hint });
    this.name = "SandboxSpecError";
  }
}

/** The sandbox could not be set up (runtime missing or failing, a mount refused by the kernel). */
export class SandboxSetupError extends BuildImageError {
  constructor(message: string, hint: string, cause?: unknown) {
    super("SANDBOX_SETUP_FAILED", message, cause === undefined ? { hint } : { hint, cause });
    this.name = "SandboxSetupError";
  }
}

/** The process ran past `timeoutMs` and was killed with its whole tree. */
export class SandboxTimeoutError extends BuildImageError {
  constructor(timeoutMs: number) {
    super("SANDBOX_TIMEOUT", `the process ran longer than ${timeoutMs} ms and was killed`, {
      hint: "make the command finish sooner or raise the timeout",
    });
    this.name = "SandboxTimeoutError";
  }
}

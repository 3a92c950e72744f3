/**
 * The sandbox contract: run ONE process on a root filesystem that someone else mounted, stream its
 * output, return its exit status, and leave nothing behind — no process, no mount, no runtime state,
 * and no entry in the root filesystem that the process did not make itself.
 *
 * Lifecycle of one run (both backends):
 *  1. A record `<stateDir>/sandboxes/<id>.json` is written first, so `cleanupStaleSandboxes` can undo the
 *     run if build-image is killed (SIGKILL) at any later point.
 *  2. `cwd` is created if missing (a real change: it belongs to the layer, as in Docker).
 *  3. Mountpoints that do not exist yet (`/proc`, `/dev`, `/sys`, `/etc/resolv.conf`, `/etc/hosts`, mount
 *     targets) are created as empty stubs and listed in the record.
 *  4. The backend runs the process in fresh mount, pid, ipc and uts namespaces (and a fresh network
 *     namespace with only `lo` for `network: "none"`).
 *  5. Stubs are removed (only if still empty), their parents' mtimes restored, and — when `upperdir` is
 *     given — directories that overlayfs copied up only to hold a stub are removed from the upper dir, so
 *     `RUN true` leaves an empty upper dir. The record is deleted.
 */

/** `runc` and `crun` are OCI runtimes driven by a generated config.json; `unshare` is the built-in fallback. */
export type Runtime = "runc" | "crun" | "unshare";

/**
 * An extra mount. `target` is absolute inside the rootfs and may not lie under /proc, /sys or /dev.
 * A bind `source` is a host path the caller already checked (e.g. a cache dir, a context dir, a secret
 * file); a missing target is created as a file or a directory to match it.
 */
export type SandboxMount =
  | { type: "bind"; source: string; target: string; readonly: boolean }
  /**
   * `size` in bytes (default: the kernel's, half of RAM). `mode` (default 0o1777, as Docker's tmpfs)
   * applies when the target does not exist yet; an existing directory lends the tmpfs its own mode, as
   * runc does.
   */
  | { type: "tmpfs"; target: string; size?: number; mode?: number };

export interface SandboxUser {
  uid: number;
  gid: number;
  /** Exactly the supplementary groups the process gets (none when empty or missing). */
  additionalGids?: number[];
}

export interface RunSpec {
  /** An already-mounted writable root, usually an overlay mount made by the store. */
  rootfs: string;
  /**
   * The overlay's upper dir, when `rootfs` is an overlay mount that is unmounted right after the run.
   * With it, directories overlayfs copied up only to hold a mountpoint stub (e.g. `/etc` for a missing
   * `/etc/resolv.conf`) are removed from the upper dir, so a step that changes nothing leaves it empty.
   * That edits the upper dir under a live mount: the merged view of such a directory is stale afterwards,
   * so do not write through `rootfs` again — unmount it and diff the upper dir.
   */
  upperdir?: string;
  /** argv; shell form is already wrapped in SHELL by the caller. argv[0] is looked up in the env's PATH. */
  args: string[];
  /** "K=V" entries. Docker's default PATH is added when PATH is missing. */
  env: string[];
  /** Absolute inside the rootfs; created (root, 0755) if missing, resolved without leaving the rootfs. */
  cwd: string;
  user: SandboxUser;
  /** `none`: a fresh network namespace with only `lo` up. `host`: the host's network. */
  network: "none" | "host";
  mounts?: SandboxMount[];
  /** The UTS hostname; default "buildkitsandbox", as BuildKit's RUN sees it. */
  hostname?: string;
  /** Called with output as the process writes it. */
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /** Aborting kills the whole process tree and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** After this many ms the whole process tree is killed and the run rejects with SANDBOX_TIMEOUT. */
  timeoutMs?: number;
}

export interface RunResult {
  /** The process's exit code; 128 + n when it died of signal n. */
  exitCode: number;
  /** The signal's name (e.g. "SIGKILL") when the process died of one and the backend can tell. */
  signal?: string;
  durationMs: number;
}

export interface RunOptions {
  /** Default "auto": see `detectRuntime`. */
  runtime?: Runtime | "auto";
  /** Where records, OCI bundles and runtime state live. One dir may be shared by concurrent builds. */
  stateDir: string;
}

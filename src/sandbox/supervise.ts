import type { ChildProcess } from "node:child_process";
import { constants } from "node:os";
import { SandboxTimeoutError } from "./errors.js";
import type { RunSpec } from "./types.js";

export interface Exit {
  exitCode: number;
  signal?: string;
}

/**
 * Streams a backend process's stdout/stderr to the spec's callbacks and waits for it. On abort or
 * timeout it calls `kill` (which must take down the whole tree), waits for the exit, then rejects.
 */
export function supervise(child: ChildProcess, spec: RunSpec, kill: () => Promise<void> | void): Promise<Exit> {
  return new Promise<Exit>((resolve, reject) => {
    let stopped: Error | undefined;
    const stop = (err: Error) => {
      if (stopped) return;
      stopped = err;
      Promise.resolve(kill()).catch(() => {});
    };
    const onAbort = () => stop(spec.signal!.reason instanceof Error ? spec.signal!.reason : new DOMException("This operation was aborted", "AbortError"));
    spec.signal?.addEventListener("abort", onAbort, { once: true });
    const timer = spec.timeoutMs === undefined ? undefined : setTimeout(() => stop(new SandboxTimeoutError(spec.timeoutMs!)), spec.timeoutMs);
    child.stdout!.on("data", spec.onStdout ?? (() => {}));
    child.stderr!.on("data", spec.onStderr ?? (() => {}));
    child.once("error", (err) => {
      stopped ??= err;
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      spec.signal?.removeEventListener("abort", onAbort);
      if (stopped) return reject(stopped);
      if (signal) resolve({ exitCode: 128 + (constants.signals[signal] ?? 0), signal });
      else resolve({ exitCode: code ?? 1 });
    });
    if (spec.signal?.aborted) onAbort();
  });
}

import { performance } from "node:perf_hooks";
import { SandboxSpecError } from "./errors.js";
import { deleteContainer, runOci } from "./oci.js";
import { prepare } from "./prepare.js";
import { cleanupRecords, deleteRecord, ownRecord, processStart, runtimeRoot, writeRecord, newSandboxId, type SandboxRecord } from "./records.js";
import { emptyStubs, removeStubs } from "./stubs.js";
import { lookupTool } from "./tools.js";
import type { RunOptions, RunResult, RunSpec, Runtime } from "./types.js";
import { runUnshare } from "./unshare.js";

const RUNTIMES: Runtime[] = ["runc", "crun", "unshare"];

/**
 * Runs `spec.args` in a fresh sandbox on `spec.rootfs` and resolves with its exit status once the
 * process, its namespaces and every stub are gone. A non-zero exit is a result, not an error; the
 * promise rejects for a bad spec (SANDBOX_BAD_SPEC), a sandbox that could not start
 * (SANDBOX_SETUP_FAILED), a timeout (SANDBOX_TIMEOUT), or an abort (the signal's reason).
 *
 * @example
 * const { exitCode } = await runInSandbox(
 *   { rootfs, upperdir, args: ["/bin/sh", "-c", "echo hi"], env: [], cwd: "/", user: { uid: 0, gid: 0 },
 *     network: "none", onStdout: (c) => process.stdout.write(c) },
 *   { stateDir: "/var/lib/build-image/sandbox" },
 * );
 */
export async function runInSandbox(spec: RunSpec, opts: RunOptions): Promise<RunResult> {
  spec.signal?.throwIfAborted();
  const runtime = opts.runtime === undefined || opts.runtime === "auto" ? await detectRuntime() : opts.runtime;
  if (!RUNTIMES.includes(runtime)) throw new SandboxSpecError(`unknown runtime "${runtime}"`, `use one of ${RUNTIMES.join(", ")}`);
  const started = performance.now();
  const id = newSandboxId();
  const stubs = emptyStubs();
  const record = ownRecord(id, runtime, spec.rootfs, spec.upperdir, stubs);
  try {
    const prepared = prepare(spec, stubs);
    record.rootfs = prepared.rootfs;
    // Written once the stubs exist and before anything starts: from here a crash is undoable.
    writeRecord(opts.stateDir, record);
    const exit =
      runtime === "unshare"
        ? await runUnshare(prepared, spec, (pid) => {
            record.child = { pid, start: processStart(pid) ?? "" };
            writeRecord(opts.stateDir, record);
          })
        : await runOci(runtime, prepared, spec, id, opts.stateDir);
    return { ...exit, durationMs: Math.round(performance.now() - started) };
  } finally {
    removeStubs(stubs, spec.upperdir);
    deleteRecord(opts.stateDir, id);
  }
}

let detected: Promise<Runtime> | undefined;

/**
 * runc when installed (Docker's runtime, and the one tested on our CI hosts), else crun (it fails on
 * hosts with a mixed cgroup v1/v2 setup, hence second), else the built-in unshare backend, which needs
 * only util-linux and perl-base. The answer is cached for the process.
 */
export function detectRuntime(): Promise<Runtime> {
  detected ??= (async () => {
    if (await lookupTool("runc")) return "runc";
    if (await lookupTool("crun")) return "crun";
    return "unshare";
  })();
  return detected;
}

/**
 * Undoes what killed build-image processes left in `stateDir`: kills their sandboxes' process trees
 * and runtime containers, removes their mountpoint stubs and bundles. Runs of live processes are left
 * alone, so this is safe to call at every start even with concurrent builds on the same stateDir.
 */
export async function cleanupStaleSandboxes(stateDir: string): Promise<void> {
  await cleanupRecords(stateDir, async (record: SandboxRecord) => {
    if (record.runtime === "unshare") return;
    const binary = await lookupTool(record.runtime);
    if (binary) await deleteContainer(binary, runtimeRoot(stateDir, record.runtime), record.id);
  });
}

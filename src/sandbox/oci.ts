import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { SandboxSetupError } from "./errors.js";
import { findTool } from "./tools.js";
import { DOCKER_CAPABILITIES, MASKED_PATHS, READONLY_PATHS } from "./defaults.js";
import type { Prepared } from "./prepare.js";
import { bundleDir, runtimeRoot } from "./records.js";
import { supervise, type Exit } from "./supervise.js";
import type { RunSpec } from "./types.js";

type OciRuntime = "runc" | "crun";

/** The OCI runtime-spec config.json for one run: Docker's defaults, our mounts, terminal off. */
export function ociConfig(p: Prepared, spec: RunSpec): object {
  const inContainer = (host: string) => `/${relative(p.rootfs, host)}`;
  const caps = Object.keys(DOCKER_CAPABILITIES);
  const mounts: object[] = [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
    { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
    ...p.hostFiles.map((f) => ({ destination: inContainer(f.host), type: "bind", source: f.source, options: ["rbind", "ro", "nosuid", "nodev", "noexec"] })),
    ...p.mounts.map((m) =>
      m.type === "tmpfs"
        ? { destination: inContainer(m.host), type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", `mode=${(m.mode ?? 0o1777).toString(8)}`, ...(m.size === undefined ? [] : [`size=${m.size}`])] }
        : { destination: inContainer(m.host), type: "bind", source: m.source, options: ["rbind", m.readonly ? "ro" : "rw"] },
    ),
  ];
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: { uid: spec.user.uid, gid: spec.user.gid, additionalGids: spec.user.additionalGids ?? [] },
      args: spec.args,
      env: p.env,
      cwd: spec.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: false,
    },
    root: { path: p.rootfs, readonly: false },
    hostname: p.hostname,
    mounts,
    linux: {
      namespaces: [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }, ...(spec.network === "none" ? [{ type: "network" }] : [])],
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
      resources: { devices: [{ allow: false, access: "rwm" }] },
    },
  };
}

/**
 * `runc run` (or crun) in the foreground with a generated bundle under `<stateDir>/bundles/<id>` and
 * state under `<stateDir>/<runtime>` (`--root`); stdio are our pipes. Abort and timeout `kill` the
 * container (its init is PID 1 of its pid namespace, so the tree goes with it); `delete -f` always after.
 */
export async function runOci(runtime: OciRuntime, p: Prepared, spec: RunSpec, id: string, stateDir: string): Promise<Exit> {
  const binary = await findTool(runtime);
  const root = runtimeRoot(stateDir, runtime);
  const bundle = bundleDir(stateDir, id);
  const log = join(bundle, "log.json");
  await mkdir(bundle, { recursive: true });
  try {
    await writeFile(join(bundle, "config.json"), JSON.stringify(ociConfig(p, spec)));
    const child = spawn(binary, ["--root", root, "--log", log, "--log-format", "json", "run", "--bundle", bundle, id], { stdio: ["ignore", "pipe", "pipe"] });
    const exit = await supervise(child, spec, () => killUntilGone(binary, root, id, child));
    const failure = exit.exitCode !== 0 ? await runtimeError(log) : undefined;
    if (failure !== undefined) {
      // A command that cannot be run is the step's failure, with the shell's codes (127, 126), not ours.
      const code = /exec/.test(failure) ? (/executable file not found|no such file or directory/.test(failure) ? 127 : /permission denied/.test(failure) ? 126 : 0) : 0;
      if (code) {
        spec.onStderr?.(Buffer.from(`${failure}\n`));
        return { exitCode: code };
      }
      throw new SandboxSetupError(`${runtime} could not run the container: ${failure}`, `check '${runtime} --version' works, or use --runtime unshare`);
    }
    return exit;
  } finally {
    await deleteContainer(binary, root, id);
    await rm(bundle, { recursive: true, force: true });
  }
}

/** `kill` may race the container's creation: repeat until the runtime process has gone. */
async function killUntilGone(binary: string, root: string, id: string, child: ReturnType<typeof spawn>): Promise<void> {
  for (let i = 0; i < 100 && child.exitCode === null && child.signalCode === null; i++) {
    await runQuiet(binary, ["--root", root, "kill", id, "KILL"]);
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill("SIGKILL");
}

/** `delete -f`, skipped when the foreground `run` already removed its state (the common case: fast). */
export async function deleteContainer(binary: string, root: string, id: string): Promise<void> {
  if (existsSync(join(root, id))) await runQuiet(binary, ["--root", root, "delete", "-f", id]);
}

/** The runtime's own error (its JSON log's error lines), not the container's output. */
async function runtimeError(log: string): Promise<string | undefined> {
  const text = await readFile(log, "utf8").catch(() => "");
  const errors = text
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      try {
        return JSON.parse(line) as { level?: string; msg?: string };
      } catch {
        return { level: "error", msg: line };
      }
    })
    .filter((e) => e.level === "error" || e.level === "fatal")
    .map((e) => e.msg ?? "");
  return errors.length > 0 ? errors.join("; ") : undefined;
}

function runQuiet(binary: string, args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(binary, args, { stdio: "ignore" });
    child.once("error", () => resolve(null));
    child.once("close", (code) => resolve(code));
  });
}

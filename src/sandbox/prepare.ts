import { lstatSync, readFileSync, realpathSync, statSync } from "node:fs";
import { join, posix, relative } from "node:path";
import { SandboxSpecError } from "./errors.js";
import { createMissing, resolveInRoot } from "./rootfs-path.js";
import { ensureMountpoint, sealStubs, type Stubs } from "./stubs.js";
import type { RunSpec, SandboxMount } from "./types.js";

/** Docker's default PATH, added when the env has none. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
export const DEFAULT_HOSTNAME = "buildkitsandbox";
const VIRTUAL_DIRS = ["/proc", "/sys", "/dev"] as const;
const HOST_FILES = ["/etc/resolv.conf", "/etc/hosts"] as const;

/** A mount with both its path inside the container and the host path it lands on before the root change. */
export type PlacedMount = SandboxMount & {
  /** Cleaned absolute path inside the container. */
  target: string;
  /** Host path (inside the rootfs, or inside an earlier mount's source) to mount on. */
  host: string;
  /** Lies inside an earlier tmpfs mount, so it can only be created once that tmpfs is mounted. */
  createInside?: "dir" | "file";
};

/** What the backends apply: every path resolved, every mountpoint existing. Plain data. */
export interface Prepared {
  rootfs: string;
  /** Host paths of /proc, /dev, /sys in the rootfs. */
  proc: string;
  dev: string;
  sys: string;
  /** Host files bound read-only: /etc/resolv.conf and /etc/hosts (skipped where the image has a non-file). */
  hostFiles: { source: string; host: string }[];
  mounts: PlacedMount[];
  env: string[];
  hostname: string;
}

type Overlay = { rootfs: string; upperdir: string | undefined };

/**
 * Checks the spec, creates cwd and the mountpoint stubs (recorded in `stubs` as they are made), and
 * places every mount. Synchronous on purpose: see rootfs-path.ts.
 */
export function prepare(spec: RunSpec, stubs: Stubs): Prepared {
  validate(spec);
  const rootfs = realpathSync(spec.rootfs);
  const overlay = { rootfs, upperdir: spec.upperdir };
  const cwd = resolveInRoot(rootfs, spec.cwd);
  if (cwd.missing.length > 0) createMissing(cwd, "dir");
  else if (!statSync(cwd.existing).isDirectory()) throw new SandboxSpecError(`working directory ${spec.cwd} is not a directory`, "set WORKDIR to a directory");
  const [proc, sys, dev] = VIRTUAL_DIRS.map((dir) => ensureMountpoint(stubs, rootfs, dir, "dir", overlay)) as [string, string, string];
  const hostFiles: Prepared["hostFiles"] = [];
  for (const source of HOST_FILES) {
    if (!statSync(source, { throwIfNoEntry: false })?.isFile()) continue;
    const resolved = resolveInRoot(rootfs, source);
    if (resolved.missing.length === 0 && !lstatSync(resolved.existing).isFile()) continue;
    hostFiles.push({ source, host: ensureMountpoint(stubs, rootfs, source, "file", overlay) });
  }
  const mounts = placeMounts(spec.mounts ?? [], overlay, [proc, sys, dev], stubs);
  sealStubs(stubs);
  const env = [...spec.env];
  if (!env.some((e) => e.startsWith("PATH="))) env.push(`PATH=${DEFAULT_PATH}`);
  if (!env.some((e) => e.startsWith("HOME="))) env.push(`HOME=${homeOf(rootfs, spec.user.uid)}`);
  return { rootfs, proc, dev, sys, hostFiles, mounts, env, hostname: spec.hostname ?? DEFAULT_HOSTNAME };
}

function validate(spec: RunSpec): void {
  if (spec.args.length === 0) throw new SandboxSpecError("nothing to run: args is empty", "give the command to run");
  if (!spec.cwd.startsWith("/")) throw new SandboxSpecError(`working directory ${spec.cwd} is not absolute`, "use an absolute WORKDIR");
  for (const e of spec.env) if (!e.includes("=")) throw new SandboxSpecError(`environment entry "${e}" has no "="`, "write env entries as K=V");
  const ids = [spec.user.uid, spec.user.gid, ...(spec.user.additionalGids ?? [])];
  if (!ids.every((n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32)) throw new SandboxSpecError(`invalid user ${JSON.stringify(spec.user)}`, "use numeric uid/gid from 0 to 4294967295");
  for (const m of spec.mounts ?? []) {
    const target = posix.normalize(m.target);
    if (!m.target.startsWith("/") || target === "/") throw new SandboxSpecError(`mount target ${m.target} must be an absolute path other than /`, "give an absolute target");
    const virtual = VIRTUAL_DIRS.find((d) => target === d || target.startsWith(`${d}/`));
    if (virtual) throw new SandboxSpecError(`mount target ${m.target} lies in ${virtual}, which the sandbox provides`, "mount somewhere outside /proc, /sys and /dev");
  }
}

/** Mounts sorted by depth (parents first), each placed inside the rootfs or inside the earlier mount holding it. */
function placeMounts(mounts: SandboxMount[], overlay: Overlay, virtual: string[], stubs: Stubs): PlacedMount[] {
  const sorted = mounts
    .map((m) => ({ ...m, target: posix.normalize(m.target).replace(/\/$/, "") }))
    .sort((a, b) => a.target.split("/").length - b.target.split("/").length);
  const placed: PlacedMount[] = [];
  for (const m of sorted) {
    if (m.type === "bind" && !lstatSync(m.source, { throwIfNoEntry: false })) {
      throw new SandboxSpecError(`bind mount source ${m.source} does not exist`, "create the source first");
    }
    const kind = m.type === "tmpfs" || statSync(m.source).isDirectory() ? "dir" : "file";
    const mode = m.type === "tmpfs" ? (m.mode ?? 0o1777) : undefined;
    const holder = [...placed].reverse().find((p) => m.target.startsWith(`${p.target}/`));
    const rel = holder ? m.target.slice(holder.target.length) : m.target;
    let host: string;
    if (holder?.type === "tmpfs" || holder?.createInside) {
      placed.push({ ...m, host: join(holder.host, rel), createInside: kind });
      continue;
    }
    if (holder?.type === "bind") {
      const source = realpathSync(holder.source);
      host = join(holder.host, relative(source, ensureMountpoint(stubs, source, rel, kind, overlay, mode)));
    } else {
      host = ensureMountpoint(stubs, overlay.rootfs, rel, kind, overlay, mode);
      if (virtual.some((v) => host === v || host.startsWith(`${v}/`))) {
        throw new SandboxSpecError(`mount target ${m.target} resolves into /proc, /sys or /dev`, "mount somewhere outside /proc, /sys and /dev");
      }
    }
    // runc gives a tmpfs the mode of the directory it lands on; do the same everywhere.
    placed.push(m.type === "tmpfs" ? { ...m, host, mode: statSync(host).mode & 0o7777 } : { ...m, host });
  }
  return placed;
}

/** The user's home from the image's /etc/passwd, else "/": what runc sets when HOME is missing. */
function homeOf(rootfs: string, uid: number): string {
  const passwd = resolveInRoot(rootfs, "/etc/passwd");
  if (passwd.missing.length > 0 || !lstatSync(passwd.existing).isFile()) return "/";
  const lines = readFileSync(passwd.existing, "utf8").split("\n");
  return lines.map((l) => l.split(":")).find((f) => f.length >= 6 && f[2] === String(uid))?.[5] || "/";
}

import { lstat, readFile, realpath, stat } from "node:fs/promises";
import { join, posix, relative } from "node:path";
import { SandboxSpecError } from "./errors.js";
import { createMissing, resolveInRoot } from "./rootfs-path.js";
import { ensureMountpoint, sealStubs, type Stubs } from "./stubs.js";
import type { RunSpec, SandboxMount } from "./types.js";

/** Docker's default PATH, added when the env has none. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
export const DEFAULT_HOSTNAME = "buildkitsandbox";
const VIRTUAL_DIRS = ["/proc", "/sys", "/dev"];
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
  hostFiles: { source: string; target: string; host: string }[];
  mounts: PlacedMount[];
  env: string[];
  hostname: string;
}

/** Checks the spec, creates cwd and the mountpoint stubs (recorded in `stubs`), and places every mount. */
export async function prepare(spec: RunSpec, stubs: Stubs): Promise<Prepared> {
  validate(spec);
  const rootfs = await realpath(spec.rootfs);
  const overlay = { rootfs, upperdir: spec.upperdir };
  const cwd = await resolveInRoot(rootfs, spec.cwd);
  if (cwd.missing.length > 0) await createMissing(cwd, "dir");
  else if (!(await stat(cwd.existing)).isDirectory()) throw new SandboxSpecError(`working directory ${spec.cwd} is not a directory`, "set WORKDIR to a directory");
  const virtual: string[] = [];
  for (const dir of VIRTUAL_DIRS) virtual.push(await ensureMountpoint(stubs, rootfs, dir, "dir", overlay));
  const hostFiles: Prepared["hostFiles"] = [];
  for (const target of HOST_FILES) {
    if (!(await stat(target).catch(() => undefined))?.isFile()) continue;
    const resolved = await resolveInRoot(rootfs, target);
    if (resolved.missing.length === 0 && !(await isFile(resolved.existing))) continue;
    hostFiles.push({ source: target, target, host: await ensureMountpoint(stubs, rootfs, target, "file", overlay) });
  }
  const mounts = await placeMounts(spec.mounts ?? [], rootfs, virtual, stubs, overlay);
  await sealStubs(stubs);
  const env = [...spec.env];
  if (!env.some((e) => e.startsWith("PATH="))) env.push(`PATH=${DEFAULT_PATH}`);
  if (!env.some((e) => e.startsWith("HOME="))) env.push(`HOME=${await homeOf(rootfs, spec.user.uid)}`);
  return { rootfs, proc: virtual[0]!, sys: virtual[1]!, dev: virtual[2]!, hostFiles, mounts, env, hostname: spec.hostname ?? DEFAULT_HOSTNAME };
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
    if (VIRTUAL_DIRS.some((d) => target === d || target.startsWith(`${d}/`))) {
      throw new SandboxSpecError(`mount target ${m.target} lies in ${target.split("/")[1] ? `/${target.split("/")[1]}` : target}, which the sandbox provides`, "mount somewhere outside /proc, /sys and /dev");
    }
  }
}

/** Mounts sorted by depth (parents first), each placed inside the rootfs or inside the earlier mount holding it. */
async function placeMounts(mounts: SandboxMount[], rootfs: string, virtual: string[], stubs: Stubs, overlay: { rootfs: string; upperdir: string | undefined }): Promise<PlacedMount[]> {
  const sorted = mounts
    .map((m) => ({ ...m, target: posix.normalize(m.target).replace(/\/$/, "") }))
    .sort((a, b) => a.target.split("/").length - b.target.split("/").length);
  const placed: PlacedMount[] = [];
  for (const m of sorted) {
    const kind = m.type === "tmpfs" ? "dir" : (await stat(m.source).catch(() => undefined))?.isDirectory() ? "dir" : "file";
    if (m.type === "bind" && !(await lstat(m.source).catch(() => undefined))) {
      throw new SandboxSpecError(`bind mount source ${m.source} does not exist`, "create the source first");
    }
    const holder = [...placed].reverse().find((p) => m.target.startsWith(`${p.target}/`));
    const rel = holder ? m.target.slice(holder.target.length) : m.target;
    let host: string;
    let createInside: "dir" | "file" | undefined;
    if (holder?.type === "tmpfs" || holder?.createInside) {
      host = join(holder.host, rel);
      createInside = kind;
    } else if (holder?.type === "bind") {
      const source = await realpath(holder.source);
      host = join(holder.host, relative(source, await ensureMountpoint(stubs, source, rel, kind, overlay, m.type === "tmpfs" ? (m.mode ?? 0o1777) : undefined)));
    } else {
      host = await ensureMountpoint(stubs, rootfs, rel, kind, overlay, m.type === "tmpfs" ? (m.mode ?? 0o1777) : undefined);
      if (virtual.some((v) => host === v || host.startsWith(`${v}/`))) {
        throw new SandboxSpecError(`mount target ${m.target} resolves into /proc, /sys or /dev`, "mount somewhere outside /proc, /sys and /dev");
      }
    }
    // runc gives a tmpfs the mode of the directory it lands on; do the same everywhere.
    const mode = m.type === "tmpfs" && !createInside ? (await stat(host)).mode & 0o7777 : undefined;
    placed.push({ ...m, host, ...(createInside ? { createInside } : {}), ...(mode === undefined ? {} : { mode }) });
  }
  return placed;
}

/** The user's home from the image's /etc/passwd, else "/": what runc sets when HOME is missing. */
async function homeOf(rootfs: string, uid: number): Promise<string> {
  const passwd = await resolveInRoot(rootfs, "/etc/passwd");
  if (passwd.missing.length > 0) return "/";
  const text = await readFile(passwd.existing, "utf8").catch(() => "");
  const home = text.split("\n").map((l) => l.split(":")).find((f) => f.length >= 6 && f[2] === String(uid))?.[5];
  return home || "/";
}

async function isFile(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined))?.isFile() ?? false;
}

// A C toolchain base image made with no internet: the host's own Debian gcc, binutils and libc6-dev
// files (from `dpkg -L`), the shared libraries they load (from `ldd`), and busybox-static for /bin/sh,
// imported into a store as `gcc-local:latest` with `importRootfs` (what `build-image import` does).
// The assembled tree is cached under os.tmpdir(), keyed by the packages' versions, so only the first
// run on a machine pays for collecting it; a missing cache is simply rebuilt.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, copyFile, lstat, mkdir, mkdtemp, open, readlink, rename, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { importRootfs, openStore } from "../../src/layers/index.js";
import { makeBusyboxRoot } from "./busybox.js";

export const TOOLCHAIN_IMAGE = "gcc-local:latest";

// Bumped when the recipe below changes, so an old cached tree is not reused.
const RECIPE = 2;

// Not needed to compile and link C (no -flto, sanitizers, gold, gprofng or iconv modules), and together
// bigger than the rest. A link to a skipped file is skipped with it.
const SKIPPED = [
  /^\/usr\/share\/(doc|man|info|locale|lintian|bug)\//,
  /\/lto1$/,
  /lto-dump/,
  /ld\.gold$/,
  /dwp$/,
  /\/lib(a|t|l|ub|hwa)san[^/]*$/,
  /gprofng|\/gp-[^/]*$/,
  /\/gconv\//,
];

const skipped = (path: string) => SKIPPED.some((re) => re.test(path));

interface Toolchain {
  gccVersion: string;
  packages: string[];
}

/** The host's gcc and the Debian packages a C build needs from it. */
function hostToolchain(): Toolchain {
  const gccVersion = execFileSync("gcc", ["-dumpfullversion"], { encoding: "utf8" }).trim();
  const major = gccVersion.split(".")[0]!;
  const triplet = execFileSync("gcc", ["-dumpmachine"], { encoding: "utf8" }).trim();
  return {
    gccVersion,
    packages: [
      "gcc", `gcc-${major}`, "cpp", `cpp-${major}`, `libgcc-${major}-dev`,
      "binutils", `binutils-${triplet.replaceAll("_", "-")}`, "binutils-common", "libbinutils",
      "libc6", "libc6-dev", "linux-libc-dev", "libcrypt1", "libcrypt-dev",
    ],
  };
}

/** "pkg=version …" for every package, so a host upgrade gives a new cache key. */
function packageVersions(packages: string[]): string {
  return execFileSync("dpkg-query", ["-W", "-f", "${Package}=${Version}\n", ...packages], { encoding: "utf8" });
}

/**
 * Makes `path` (absolute, as on the host) exist in `tree`: a symlink as a symlink plus what it points
 * at. Returns false when nothing was copied (skipped, missing, a directory).
 */
async function copyIn(tree: string, path: string, seen: Map<string, boolean>): Promise<boolean> {
  const done = seen.get(path);
  if (done !== undefined) return done;
  seen.set(path, false);
  const info = await lstat(path).catch(() => undefined);
  if (!info || info.isDirectory() || skipped(path)) return false;
  const dest = join(tree, path);
  await mkdir(dirname(dest), { recursive: true });
  if (info.isSymbolicLink()) {
    const target = await readlink(path);
    if (!(await copyIn(tree, resolve(dirname(path), target), seen))) return false;
    await symlink(target, dest).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw err;
    });
  } else if (info.isFile()) {
    await copyFile(path, dest);
    await chmod(dest, info.mode & 0o7777);
  } else return false;
  seen.set(path, true);
  return true;
}

/** True for an ELF executable or shared object (e_type 2 or 3), which may need shared libraries. */
async function isLinkedElf(path: string): Promise<boolean> {
  const handle = await open(path, "r");
  try {
    const head = Buffer.alloc(18);
    const { bytesRead } = await handle.read(head, 0, 18, 0);
    return bytesRead === 18 && head.readUInt32BE(0) === 0x7f454c46 && [2, 3].includes(head.readUInt16LE(16));
  } finally {
    await handle.close();
  }
}

/** Fills `tree` with the toolchain, the libraries its programs load, and a busybox userland. */
async function assembleTree(tree: string, toolchain: Toolchain): Promise<void> {
  // Debian 12 is merged-/usr; packages still list /lib/… and /bin/… paths, which land through these.
  await mkdir(join(tree, "usr"), { recursive: true });
  for (const dir of ["bin", "sbin", "lib", "lib64"]) {
    await mkdir(join(tree, "usr", dir), { recursive: true });
    await symlink(`usr/${dir}`, join(tree, dir));
  }
  const seen = new Map<string, boolean>();
  const files = execFileSync("dpkg", ["-L", ...toolchain.packages], { encoding: "utf8", maxBuffer: 64 << 20 })
    .split("\n")
    .filter((p) => p.startsWith("/"));
  const copied: string[] = [];
  for (const file of files) if (await copyIn(tree, file, seen)) copied.push(file);
  for (const file of copied) {
    const info = await lstat(file);
    if (!info.isFile() || !(await isLinkedElf(file))) continue;
    // ldd prints "name => /path (0x…)" and "/lib64/ld-linux-x86-64.so.2 (0x…)"; a non-dynamic file prints neither.
    const out = spawnSync("ldd", [file], { encoding: "utf8" }).stdout ?? "";
    for (const m of out.matchAll(/(?:=>\s+)?(\/\S+)\s+\(0x[0-9a-f]+\)/g)) await copyIn(tree, m[1]!, seen);
  }
  // Debian points cc at gcc through /etc/alternatives; the image needs no alternatives system.
  await symlink("gcc", join(tree, "usr/bin/cc")).catch(() => {});
  // Applets whose names the toolchain already took (ar, strings, …) stay the toolchain's.
  await makeBusyboxRoot(tree);
}

/** The cached toolchain tree for this host, assembled on first use. Safe when several tests race. */
export async function toolchainTree(): Promise<{ tree: string; gccVersion: string }> {
  const toolchain = hostToolchain();
  const key = createHash("sha256").update(`${RECIPE}\n${packageVersions(toolchain.packages)}`).digest("hex").slice(0, 16);
  const cache = join(tmpdir(), `build-image-toolchain-${toolchain.gccVersion}-${key}`);
  const tree = join(cache, "rootfs");
  if (await lstat(tree).catch(() => undefined)) return { tree, gccVersion: toolchain.gccVersion };
  const work = await mkdtemp(`${cache}.partial-`);
  try {
    await assembleTree(join(work, "rootfs"), toolchain);
    // Built aside and renamed in whole, so a cache that exists is complete; a racer that lost just drops its copy.
    await rename(work, cache).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOTEMPTY" && err.code !== "EEXIST") throw err;
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return { tree, gccVersion: toolchain.gccVersion };
}

/** Imports the host toolchain into the store at `root` as `tag` (default gcc-local:latest). */
export async function importToolchainImage(root: string, tag = TOOLCHAIN_IMAGE): Promise<{ gccVersion: string; imageId: string }> {
  const { tree, gccVersion } = await toolchainTree();
  const store = await openStore(root);
  try {
    const imported = await importRootfs(store, tree, tag, {
      sourceDateEpoch: 0,
      message: `host gcc ${gccVersion}, binutils and libc6-dev from dpkg, busybox-static`,
      config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["/bin/sh"] },
    });
    return { gccVersion, imageId: imported.configDigest };
  } finally {
    await store.close();
  }
}

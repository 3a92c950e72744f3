// Real overlay mounts over a busybox root, for the sandbox tests. Everything lives under os.tmpdir().
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeBusyboxRoot } from "../helpers/busybox.js";

export interface Overlay {
  rootfs: string;
  upper: string;
  dispose(): Promise<void>;
}

/** A temp dir with a busybox lower dir and a state dir; `overlay()` mounts a fresh writable root on it. */
export async function makeFixture() {
  const dir = await mkdtemp(join(tmpdir(), "bi-sandbox-"));
  const lower = join(dir, "lower");
  await makeBusyboxRoot(lower);
  const stateDir = join(dir, "state");
  let n = 0;
  const mounted = new Set<string>();
  async function overlay(): Promise<Overlay> {
    const base = join(dir, `ov${n++}`);
    const [upper, work, rootfs] = ["upper", "work", "merged"].map((s) => join(base, s)) as [string, string, string];
    for (const d of [upper, work, rootfs]) await mkdir(d, { recursive: true });
    execFileSync("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${lower},upperdir=${upper},workdir=${work}`, rootfs]);
    mounted.add(rootfs);
    return {
      rootfs,
      upper,
      dispose: async () => {
        if (mounted.delete(rootfs)) execFileSync("umount", [rootfs]);
      },
    };
  }
  async function dispose() {
    for (const m of mounted) execFileSync("umount", ["-l", m]);
    mounted.clear();
    await rm(dir, { recursive: true, force: true });
  }
  return { dir, lower, stateDir, overlay, dispose };
}

/** Every path under `dir`, relative, sorted; symlinks are listed, never followed. */
export async function tree(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true }).catch(() => [])) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    out.push(rel);
    if (entry.isDirectory()) out.push(...(await tree(dir, rel)));
  }
  return out.sort();
}

/** Pids of processes whose command line contains `marker`. */
export async function processesWith(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(marker)) pids.push(Number(name));
  }
  return pids;
}

export async function eventually(check: () => Promise<boolean>, ms = 3000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) if (await check()) return true;
  return check();
}

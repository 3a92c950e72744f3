// Helpers for the layers tests: temp stores that clean up, and a tree description to compare roots.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore, type OpenStoreOptions, type Store } from "../../src/layers/store.js";

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Every mount point under `dir` (should be none once a test is done). */
export function mountsBelow(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((p) => p.startsWith(dir));
}

/** Runs `fn` with a fresh store, then unmounts anything left and removes the store. */
export async function withStore(opts: OpenStoreOptions, fn: (store: Store) => Promise<void>): Promise<void> {
  const root = await tempDir("bi-store-");
  try {
    const store = await openStore(root, opts);
    await fn(store);
    await store.close();
  } finally {
    for (const m of mountsBelow(root).sort((a, b) => b.length - a.length)) execFileSync("umount", ["-l", m]);
    await rm(root, { recursive: true, force: true });
  }
}

/**
 * One line per entry below `dir`, sorted: path, type, mode, uid:gid, then content hash, link target or
 * device; hardlinked files get a group letter. Times are left out (they differ between copies).
 */
export function describeTree(dir: string): string[] {
  const lines: string[] = [];
  const inodes = new Map<number, string>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const abs = join(dir, path);
      const st = lstatSync(abs);
      const perm = (st.mode & 0o7777).toString(8);
      let what: string;
      if (st.isDirectory()) what = "dir";
      else if (st.isSymbolicLink()) what = `link->${readlinkSync(abs)}`;
      else if (st.isFile()) {
        const hash = createHash("sha256").update(readFileSync(abs)).digest("hex").slice(0, 12);
        let group = "";
        if (st.nlink > 1) {
          if (!inodes.has(st.ino)) inodes.set(st.ino, String.fromCharCode(97 + inodes.size));
          group = ` hardlink-${inodes.get(st.ino)}`;
        }
        what = `file ${st.size} ${hash}${group}`;
      } else if (st.isCharacterDevice()) what = `char ${st.rdev}`;
      else if (st.isFIFO()) what = "fifo";
      else what = "other";
      lines.push(`${path} ${what} ${perm} ${st.uid}:${st.gid}`);
      if (st.isDirectory()) walk(path);
    }
  };
  walk("");
  return lines;
}

/** `tar -tvf` of a gzip layer blob, as lines. */
export function tarList(blobPath: string): string[] {
  return execFileSync("tar", ["-tvzf", blobPath], { encoding: "utf8" }).trim().split("\n");
}

/** The names in a gzip layer blob. */
export function tarNames(blobPath: string): string[] {
  return execFileSync("tar", ["-tzf", blobPath], { encoding: "utf8" }).trim().split("\n");
}

export const hasCode = (code: string) => (err: unknown) => (err as { code?: string }).code === code;

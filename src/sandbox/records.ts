import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { dirname, join, relative } from "node:path";
import { removeStubs, type Stubs } from "./stubs.js";
import type { Runtime } from "./types.js";

/**
 * What one run leaves to undo, on disk at `<stateDir>/sandboxes/<id>.json` from before anything is
 * created until everything is undone, so the next start can clean up after a SIGKILL.
 */
export interface SandboxRecord {
  id: string;
  runtime: Runtime;
  /** The build-image process that owns the run; a record whose owner is alive is never touched. */
  owner: { pid: number; start: string };
  /** The process started for the run (unshare backend), identified by pid and start time. */
  child?: { pid: number; start: string };
  rootfs: string;
  upperdir?: string;
  stubs: Stubs;
}

export const recordsDir = (stateDir: string) => join(stateDir, "sandboxes");
export const bundleDir = (stateDir: string, id: string) => join(stateDir, "bundles", id);
export const runtimeRoot = (stateDir: string, runtime: Runtime) => join(stateDir, runtime);

let sequence = 0;
/** Unique across processes sharing a stateDir, and short (runtimes put it in paths). */
export function newSandboxId(): string {
  return `bi-${process.pid.toString(36)}-${(sequence++).toString(36)}-${randomBytes(3).toString("hex")}`;
}

export async function writeRecord(stateDir: string, record: SandboxRecord): Promise<void> {
  const path = join(recordsDir(stateDir), `${record.id}.json`);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(`${path}.tmp`, JSON.stringify(record));
  await rename(`${path}.tmp`, path);
}

export async function deleteRecord(stateDir: string, id: string): Promise<void> {
  await rm(join(recordsDir(stateDir), `${id}.json`), { force: true });
}

/** A process's start time in clock ticks since boot (field 22 of /proc/PID/stat), to tell pid reuse apart. */
export async function processStart(pid: number): Promise<string | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  return text?.slice(text.lastIndexOf(")") + 2).split(" ")[19];
}

export async function ownRecord(id: string, runtime: Runtime, rootfs: string, upperdir: string | undefined, stubs: Stubs): Promise<SandboxRecord> {
  const start = (await processStart(process.pid)) ?? "";
  return { id, runtime, owner: { pid: process.pid, start }, rootfs, ...(upperdir ? { upperdir } : {}), stubs };
}

export async function isAlive(p: { pid: number; start: string }): Promise<boolean> {
  return (await processStart(p.pid)) === p.start;
}

/**
 * Undoes the runs in `stateDir` whose owner died: kills their process tree and runtime container,
 * removes their stubs and bundle. Runs whose owner is alive (a concurrent build) are left alone.
 * Mounts need no work: the sandbox mounts only inside its own mount namespace, which dies with it.
 */
export async function cleanupRecords(stateDir: string, killContainer: (record: SandboxRecord) => Promise<void>): Promise<void> {
  const names = await readdir(recordsDir(stateDir)).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.endsWith(".json"))) {
    const path = join(recordsDir(stateDir), name);
    const record = await readFile(path, "utf8").then((t) => JSON.parse(t) as SandboxRecord, () => undefined);
    if (!record) {
      await rm(path, { force: true });
      continue;
    }
    if (await isAlive(record.owner)) continue;
    if (record.child && (await isAlive(record.child))) {
      process.kill(record.child.pid, "SIGKILL");
      await waitGone(record.child);
    }
    await killContainer(record);
    await undoStubs(record);
    await rm(bundleDir(stateDir, record.id), { recursive: true, force: true });
    await rm(path, { force: true });
  }
}

/** If the overlay is no longer mounted, the stubs live in the upper dir itself: undo them there. */
async function undoStubs(record: SandboxRecord): Promise<void> {
  const { rootfs, upperdir, stubs } = record;
  if (!upperdir || (await isMountpoint(rootfs))) return removeStubs(stubs, upperdir);
  const move = (p: string) => (p === rootfs || p.startsWith(`${rootfs}/`) ? join(upperdir, relative(rootfs, p)) : p);
  await removeStubs({ ...stubs, created: stubs.created.map(move), parents: stubs.parents.map((p) => ({ ...p, path: move(p.path) })) }, upperdir);
}

async function isMountpoint(path: string): Promise<boolean> {
  const [self, parent] = await Promise.all([stat(path).catch(() => undefined), stat(dirname(path)).catch(() => undefined)]);
  return !!self && !!parent && self.dev !== parent.dev;
}

async function waitGone(p: { pid: number; start: string }): Promise<void> {
  for (let i = 0; i < 200 && (await isAlive(p)); i++) await new Promise((r) => setTimeout(r, 10));
}

import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { readdir, readFile, rm, stat } from "node:fs/promises";
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

/** Synchronous like the stub helpers: three tiny calls on the hot path of every run. */
export function writeRecord(stateDir: string, record: SandboxRecord): void {
  const path = join(recordsDir(stateDir), `${record.id}.json`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, JSON.stringify(record));
  renameSync(`${path}.tmp`, path);
}

export function deleteRecord(stateDir: string, id: string): void {
  rmSync(join(recordsDir(stateDir), `${id}.json`), { force: true });
}

/** A process's start time in clock ticks since boot (field 22 of /proc/PID/stat), to tell pid reuse apart. */
export function processStart(pid: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  return text.slice(text.lastIndexOf(")") + 2).split(" ")[19];
}

let ownStart: string | undefined;
export function ownRecord(id: string, runtime: Runtime, rootfs: string, upperdir: string | undefined, stubs: Stubs): SandboxRecord {
  ownStart ??= processStart(process.pid) ?? "";
  return { id, runtime, owner: { pid: process.pid, start: ownStart }, rootfs, ...(upperdir ? { upperdir } : {}), stubs };
}

export function isAlive(p: { pid: number; start: string }): boolean {
  return processStart(p.pid) === p.start;
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
    if (isAlive(record.owner)) continue;
    if (record.child && isAlive(record.child)) {
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
  for (let i = 0; i < 200 && isAlive(p); i++) await new Promise((r) => setTimeout(r, 10));
}

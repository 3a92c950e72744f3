/**
 * Shared/exclusive locks between processes, as files in a lock directory (Node has no flock):
 * - an exclusive holder owns `exclusive`, made by link(2) from a file already holding its owner tag, so the
 *   lock never exists without a name in it;
 * - each shared holder owns `shared.<owner>`.
 * A shared taker announces itself first and then looks for `exclusive`; an exclusive taker creates `exclusive`
 * first and then waits for the shared files to go. Whichever order the two run in, one of them sees the other.
 * Files of processes that died (see process-owner.ts) are removed, so a crash never blocks forever.
 */
import { link, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ownedName, ownerAlive } from "../layers/index.js";

export interface HeldLock {
  release(): Promise<void>;
}

export interface WaitOptions {
  signal?: AbortSignal;
  /** Give up (resolve undefined) after this long; 0 means try once. Default: wait forever. */
  timeoutMs?: number;
}

const EXCLUSIVE = "exclusive";

async function liveShared(dir: string): Promise<string[]> {
  const live: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith("shared.")) continue;
    if (ownerAlive(name.slice(7))) live.push(name);
    else await rm(join(dir, name), { force: true });
  }
  return live;
}

/** True when a live process holds `exclusive`; a dead holder's file is removed. */
async function exclusiveHeld(dir: string): Promise<boolean> {
  const owner = await readFile(join(dir, EXCLUSIVE), "utf8").catch(() => undefined);
  if (owner === undefined) return false;
  if (ownerAlive(owner)) return true;
  // Remove only the file we judged: another taker may have replaced it meanwhile.
  if ((await readFile(join(dir, EXCLUSIVE), "utf8").catch(() => undefined)) === owner) await rm(join(dir, EXCLUSIVE), { force: true });
  return false;
}

async function tryExclusive(dir: string, tag: string): Promise<boolean> {
  const tmp = join(dir, `tmp.${tag}`);
  await writeFile(tmp, tag);
  try {
    await link(tmp, join(dir, EXCLUSIVE));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    return false;
  } finally {
    await rm(tmp, { force: true });
  }
}

async function poll<T>(attempt: () => Promise<T | undefined>, options: WaitOptions): Promise<T | undefined> {
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  let delay = 2;
  for (;;) {
    options.signal?.throwIfAborted();
    const got = await attempt();
    if (got !== undefined) return got;
    if (Date.now() >= deadline) return undefined;
    await sleep(Math.min(delay, Math.max(1, deadline - Date.now())), undefined, { signal: options.signal });
    delay = Math.min(delay * 2, 50);
  }
}

/**
 * The exclusive lock of `dir`: waits for the current exclusive holder and every shared holder.
 * With `timeoutMs` it resolves undefined when the lock could not be had in time.
 */
export async function lockExclusive(dir: string, options: WaitOptions = {}): Promise<HeldLock | undefined> {
  await mkdir(dir, { recursive: true });
  const tag = ownedName();
  const lockFile = join(dir, EXCLUSIVE);
  const release = async () => {
    if ((await readFile(lockFile, "utf8").catch(() => undefined)) === tag) await rm(lockFile, { force: true });
  };
  const taken = await poll(async () => ((await tryExclusive(dir, tag)) || (!(await exclusiveHeld(dir)) && (await tryExclusive(dir, tag))) ? true : undefined), options);
  if (!taken) return undefined;
  try {
    // New shared takers now back off; wait for those already in.
    const drained = await poll(async () => ((await liveShared(dir)).length === 0 ? true : undefined), options);
    if (drained) return { release };
  } catch (err) {
    await release();
    throw err;
  }
  await release();
  return undefined;
}

/** A shared lock of `dir`: many holders at once, none while an exclusive holder has it. */
export async function lockShared(dir: string, options: WaitOptions = {}): Promise<HeldLock | undefined> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `shared.${ownedName()}`);
  const release = () => rm(file, { force: true });
  return poll(async () => {
    await writeFile(file, "");
    if (!(await exclusiveHeld(dir))) return { release };
    await release();
    return undefined;
  }, options);
}

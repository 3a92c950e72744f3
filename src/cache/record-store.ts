import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ownedName } from "../layers/index.js";
import { EXPLAIN_ONLY_FIELDS, type Cache, type CacheField, type CacheInputs, type CacheRecord, type NewCacheRecord } from "./cache.js";
import { explainDifference, FIRST_BUILD } from "./explain.js";
import { isCacheKey, sameField } from "./key.js";
import { CacheError } from "./errors.js";

/**
 * Where the cache lives under a store root:
 *   cache/records/<hex>.json         one record per key
 *   cache/records/<hex>.files.json   its explanation-only fields (per-file digests), when it has any
 *   cache/slots/<sha256(slot)>       the key last put for a slot
 *   cache/parents/<hex|none>/<hex>   an empty file per record, listed by parent key
 */
export function cacheLayout(root: string) {
  const dir = join(root, "cache");
  const hex = (key: string) => checkedHex(key);
  return {
    dir,
    tmp: join(root, "tmp"),
    records: join(dir, "records"),
    slots: join(dir, "slots"),
    parents: join(dir, "parents"),
    mounts: join(dir, "mounts"),
    record: (key: string) => join(dir, "records", `${hex(key)}.json`),
    files: (key: string) => join(dir, "records", `${hex(key)}.files.json`),
    slot: (slot: string) => join(dir, "slots", createHash("sha256").update(slot).digest("hex")),
    parentDir: (parent: string | null) => join(dir, "parents", parent === null ? "none" : hex(parent)),
  };
}

export type CacheLayout = ReturnType<typeof cacheLayout>;

function checkedHex(key: string): string {
  if (!isCacheKey(key)) {
    throw new CacheError("CACHE_KEY_INVALID", `"${String(key).slice(0, 80)}" is not a cache key`, { hint: "a cache key is sha256: and 64 hex digits, as cacheKey() returns" });
  }
  return key.slice(7);
}

/** Opens (creating if needed) the cache of a store root. See cache.ts for the contract. */
export async function openCache(root: string): Promise<Cache> {
  const layout = cacheLayout(root);
  await Promise.all([layout.tmp, layout.records, layout.slots, layout.parents].map((d) => mkdir(d, { recursive: true })));

  /** Writes `text` to tmp/ and renames it to `path`: readers see all of it or nothing. */
  async function writeAtomically(path: string, text: string): Promise<void> {
    const tmp = join(layout.tmp, ownedName(".cache"));
    try {
      await writeFile(tmp, text, { flag: "wx" });
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async function get(key: string): Promise<CacheRecord | undefined> {
    return readRecord(layout, key);
  }

  async function put(key: string, input: NewCacheRecord): Promise<CacheRecord> {
    const now = Date.now();
    const { keyed, explainOnly } = splitFields(input.inputs);
    const record: CacheRecord = { key, parent: input.parent, inputs: keyed, result: input.result, createdAt: now, lastUsedAt: now, slot: input.slot };
    // The sidecar goes first, so a record that is visible always has its explanation beside it.
    if (Object.keys(explainOnly).length > 0) await writeAtomically(layout.files(key), JSON.stringify(explainOnly));
    else await rm(layout.files(key), { force: true });
    await writeAtomically(layout.record(key), JSON.stringify(record));
    const parentDir = layout.parentDir(input.parent);
    await mkdir(parentDir, { recursive: true });
    await writeFile(join(parentDir, checkedHex(key)), "");
    await writeAtomically(layout.slot(input.slot), key);
    return record;
  }

  async function touch(key: string, time = Date.now()): Promise<void> {
    const now = new Date(time);
    await utimes(layout.record(key), now, now).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }

  async function explainMiss(slot: string, parent: string | null, inputs: CacheInputs): Promise<string> {
    try {
      const last = await lastForSlot(slot);
      if (last) {
        return explainDifference(await withSidecar(last), inputs, last.parent !== parent);
      }
      const sibling = await closestSibling(parent, inputs);
      return sibling ? explainDifference(sibling, inputs) : FIRST_BUILD;
    } catch {
      return FIRST_BUILD;
    }
  }

  async function lastForSlot(slot: string): Promise<CacheRecord | undefined> {
    const key = (await readFile(layout.slot(slot), "utf8").catch(() => "")).trim();
    return isCacheKey(key) ? readRecord(layout, key) : undefined;
  }

  async function withSidecar(record: CacheRecord): Promise<CacheRecord> {
    const text = await readFile(layout.files(record.key), "utf8").catch(() => undefined);
    if (text === undefined) return record;
    const extra = JSON.parse(text) as Record<string, CacheField>;
    return { ...record, inputs: { ...record.inputs, fields: { ...record.inputs.fields, ...extra } } };
  }

  /** Among records with the same parent and kind, the most recently used one whose inputs differ least. */
  async function closestSibling(parent: string | null, inputs: CacheInputs): Promise<CacheRecord | undefined> {
    const names = await readdir(layout.parentDir(parent)).catch(() => [] as string[]);
    let best: { record: CacheRecord; differing: number } | undefined;
    for (const name of names) {
      const record = await readRecord(layout, `sha256:${name}`);
      if (!record || record.inputs.kind !== inputs.kind) continue;
      const differing = countDiffering(record.inputs, inputs);
      if (!best || differing < best.differing || (differing === best.differing && record.lastUsedAt > best.record.lastUsedAt)) best = { record, differing };
    }
    return best ? withSidecar(best.record) : undefined;
  }

  async function list(): Promise<CacheRecord[]> {
    const names = await readdir(layout.records).catch(() => [] as string[]);
    const records: CacheRecord[] = [];
    for (const name of names) {
      const match = /^([0-9a-f]{64})\.json$/.exec(name);
      if (!match) continue;
      const record = await readRecord(layout, `sha256:${match[1]}`);
      if (record) records.push(record);
    }
    return records.sort((a, b) => a.lastUsedAt - b.lastUsedAt || a.key.localeCompare(b.key));
  }

  async function remove(keys: Iterable<string>): Promise<number> {
    let removed = 0;
    for (const key of keys) {
      const record = await readRecord(layout, key);
      // The record goes first: once it is gone the key is a miss, whatever is left of its index entries.
      const existed = await stat(layout.record(key)).then(() => true, () => false);
      await rm(layout.record(key), { force: true });
      await rm(layout.files(key), { force: true });
      if (record) await rm(join(layout.parentDir(record.parent), checkedHex(key)), { force: true });
      if (existed) removed++;
    }
    return removed;
  }

  return { root, get, put, touch, explainMiss, list, remove };
}

/** Reads one record; undefined when missing, torn or not a record of that key. */
export async function readRecord(layout: CacheLayout, key: string): Promise<CacheRecord | undefined> {
  const path = layout.record(key);
  try {
    const [text, info] = await Promise.all([readFile(path, "utf8"), stat(path)]);
    const record = JSON.parse(text) as CacheRecord;
    if (record?.key !== key || typeof record.inputs?.kind !== "string" || typeof record.result?.empty !== "boolean") return undefined;
    // The file's mtime is lastUsedAt: `touch` moves it without rewriting the record.
    return { ...record, lastUsedAt: Math.round(info.mtimeMs) };
  } catch {
    return undefined;
  }
}

function splitFields(inputs: CacheInputs): { keyed: CacheInputs; explainOnly: Record<string, CacheField> } {
  const fields: Record<string, CacheField> = {};
  const explainOnly: Record<string, CacheField> = {};
  for (const [name, value] of Object.entries(inputs.fields)) (EXPLAIN_ONLY_FIELDS.has(name) ? explainOnly : fields)[name] = value;
  return { keyed: { kind: inputs.kind, fields }, explainOnly };
}

function countDiffering(a: CacheInputs, b: CacheInputs): number {
  const names = new Set([...Object.keys(a.fields), ...Object.keys(b.fields)].filter((n) => !EXPLAIN_ONLY_FIELDS.has(n)));
  let n = 0;
  for (const name of names) if (!sameField(a.fields[name], b.fields[name])) n++;
  return n;
}

/** Bytes of each key's record files (the record and its sidecar). */
export async function recordFileBytes(root: string): Promise<Map<string, number>> {
  const layout = cacheLayout(root);
  const bytes = new Map<string, number>();
  for (const name of await readdir(layout.records).catch(() => [] as string[])) {
    const match = /^([0-9a-f]{64})(\.files)?\.json$/.exec(name);
    if (!match) continue;
    const size = (await stat(join(layout.records, name)).catch(() => undefined))?.size ?? 0;
    const key = `sha256:${match[1]}`;
    bytes.set(key, (bytes.get(key) ?? 0) + size);
  }
  return bytes;
}

/** Removes slot pointers whose record is gone, so explanations do not point at nothing. */
export async function removeDanglingSlots(root: string): Promise<number> {
  const layout = cacheLayout(root);
  let removed = 0;
  for (const name of await readdir(layout.slots).catch(() => [] as string[])) {
    const path = join(layout.slots, name);
    const key = (await readFile(path, "utf8").catch(() => "")).trim();
    if (isCacheKey(key) && (await stat(layout.record(key)).then(() => true, () => false))) continue;
    await rm(path, { force: true });
    removed++;
  }
  return removed;
}

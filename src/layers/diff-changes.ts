import { lstatSync, readdirSync, readlinkSync, openSync, readSync, closeSync, type BigIntStats } from "node:fs";
import { join } from "node:path";
import { isLayerXattr, readTreeXattrs } from "./xattrs.js";

// What changed in a snapshot, as a list in layer-tar order: depth first, each directory's children
// sorted by their archive names (bytewise), an opaque marker right after its directory. Two sources:
// an overlay upper dir (the changes are the dir itself) and, for the copy snapshotter, two full trees
// compared by walking. The list holds metadata only; file contents are read later, while tarring.

export type Change =
  | { kind: "entry"; path: string; abs: string; stat: BigIntStats; linkTarget?: string; xattrs?: Map<string, Buffer> }
  | { kind: "whiteout"; path: string; mtime: number }
  | { kind: "opaque"; path: string; mtime: number };

const WHITEOUT_PREFIX = ".wh.";
/** The OCI marker that a directory hides everything below it: https://github.com/opencontainers/image-spec/blob/main/layer.md#opaque-whiteout */
export const OPAQUE_MARKER = ".wh..wh..opq";
export { WHITEOUT_PREFIX };

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const seconds = (ns: bigint) => Number(ns / 1_000_000_000n);

function entry(path: string, abs: string, stat: BigIntStats, xattrs: Map<string, Map<string, Buffer>>): Change {
  const own = xattrs.get(path);
  const kept = own && new Map([...own].filter(([name]) => isLayerXattr(name)));
  return {
    kind: "entry",
    path,
    abs,
    stat,
    ...(stat.isSymbolicLink() ? { linkTarget: readlinkSync(abs) } : {}),
    ...(kept && kept.size ? { xattrs: kept } : {}),
  };
}

const isWhiteoutDevice = (stat: BigIntStats) => stat.isCharacterDevice() && stat.rdev === 0n;

/** The changes an overlay upper dir holds: 0/0 char devices are whiteouts, `trusted.overlay.opaque=y` opaque dirs. */
export async function upperDirChanges(upperDir: string, signal?: AbortSignal): Promise<Change[]> {
  const xattrs = await readTreeXattrs(upperDir, signal);
  const out: Change[] = [];
  const walk = (rel: string) => {
    signal?.throwIfAborted();
    const dirAbs = rel ? join(upperDir, rel) : upperDir;
    const children = readdirSync(dirAbs).map((name) => {
      const abs = join(dirAbs, name);
      const stat = lstatSync(abs, { bigint: true });
      return { name, abs, stat, archiveName: isWhiteoutDevice(stat) ? WHITEOUT_PREFIX + name : name };
    });
    children.sort((a, b) => byBytes(a.archiveName, b.archiveName));
    for (const child of children) {
      const path = rel ? `${rel}/${child.name}` : child.name;
      if (isWhiteoutDevice(child.stat)) {
        out.push({ kind: "whiteout", path, mtime: seconds(child.stat.mtimeNs) });
        continue;
      }
      out.push(entry(path, child.abs, child.stat, xattrs));
      if (!child.stat.isDirectory()) continue;
      if (xattrs.get(path)?.get("trusted.overlay.opaque")?.toString() === "y") {
        out.push({ kind: "opaque", path, mtime: seconds(child.stat.mtimeNs) });
      }
      walk(path);
    }
  };
  walk("");
  return out;
}

/**
 * The changes from `lowerRoot` to `upperRoot`, two full trees (the copy snapshotter). An entry counts as
 * changed when its type, mode, owner, size, mtime, device number, link target or xattrs differ; when all
 * of those match but its ctime is after `since` (it was touched after the copy was made), its content
 * decides. A directory is listed when it changed or anything below it did, as an overlay upper dir would.
 */
export async function treeChanges(lowerRoot: string, upperRoot: string, since: number, signal?: AbortSignal): Promise<Change[]> {
  const [lowerX, upperX] = await Promise.all([readTreeXattrs(lowerRoot, signal), readTreeXattrs(upperRoot, signal)]);
  const xattrKey = (m: Map<string, Map<string, Buffer>>, path: string) =>
    [...(m.get(path) ?? [])].filter(([n]) => isLayerXattr(n)).sort(([a], [b]) => byBytes(a, b)).map(([n, v]) => `${n}=${v.toString("hex")}`).join(",");
  const sinceNs = BigInt(Math.floor(since)) * 1_000_000n;

  const all = (rel: string, abs: string, out: Change[]) => {
    for (const name of readdirSync(abs).sort(byBytes)) {
      const childAbs = join(abs, name);
      const path = `${rel}/${name}`.replace(/^\//, "");
      const stat = lstatSync(childAbs, { bigint: true });
      out.push(entry(path, childAbs, stat, upperX));
      if (stat.isDirectory()) all(path, childAbs, out);
    }
  };

  const differs = (path: string, lowerAbs: string, upperAbs: string, l: BigIntStats, u: BigIntStats) => {
    if ((l.mode & 0o170000n) !== (u.mode & 0o170000n)) return true;
    if (l.mode !== u.mode || l.uid !== u.uid || l.gid !== u.gid || l.rdev !== u.rdev) return true;
    if (xattrKey(lowerX, path) !== xattrKey(upperX, path)) return true;
    if (u.isSymbolicLink()) return readlinkSync(lowerAbs) !== readlinkSync(upperAbs);
    if (l.mtimeNs !== u.mtimeNs) return true;
    if (u.isDirectory()) return false;
    if (l.size !== u.size) return true;
    return u.isFile() && u.ctimeNs > sinceNs && !sameContent(lowerAbs, upperAbs);
  };

  const compare = (rel: string, lowerAbs: string, upperAbs: string): Change[] => {
    signal?.throwIfAborted();
    const lowerNames = new Set(readdirSync(lowerAbs));
    const upperNames = readdirSync(upperAbs);
    const items: { archiveName: string; changes: Change[] }[] = [];
    for (const name of upperNames) {
      const path = rel ? `${rel}/${name}` : name;
      const uAbs = join(upperAbs, name);
      const u = lstatSync(uAbs, { bigint: true });
      const changes: Change[] = [];
      if (!lowerNames.has(name)) {
        changes.push(entry(path, uAbs, u, upperX));
        if (u.isDirectory()) all(path, uAbs, changes);
      } else {
        lowerNames.delete(name);
        const lAbs = join(lowerAbs, name);
        const l = lstatSync(lAbs, { bigint: true });
        if (u.isDirectory() && l.isDirectory()) {
          const below = compare(path, lAbs, uAbs);
          if (below.length || differs(path, lAbs, uAbs, l, u)) changes.push(entry(path, uAbs, u, upperX), ...below);
        } else if (differs(path, lAbs, uAbs, l, u)) {
          changes.push(entry(path, uAbs, u, upperX));
          if (u.isDirectory()) all(path, uAbs, changes);
        }
      }
      if (changes.length) items.push({ archiveName: name, changes });
    }
    for (const gone of lowerNames) {
      const path = rel ? `${rel}/${gone}` : gone;
      items.push({ archiveName: WHITEOUT_PREFIX + gone, changes: [{ kind: "whiteout", path, mtime: Math.floor(since / 1000) }] });
    }
    items.sort((a, b) => byBytes(a.archiveName, b.archiveName));
    return items.flatMap((item) => item.changes);
  };

  return compare("", lowerRoot, upperRoot);
}

function sameContent(a: string, b: string): boolean {
  const fa = openSync(a, "r");
  const fb = openSync(b, "r");
  try {
    const ba = Buffer.allocUnsafe(1 << 20);
    const bb = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const na = readSync(fa, ba, 0, ba.length, null);
      const nb = readSync(fb, bb, 0, bb.length, null);
      if (na !== nb || !ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
      if (na === 0) return true;
    }
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}

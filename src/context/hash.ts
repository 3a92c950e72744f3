// Content hashing for the build cache: a Merkle hash of exactly what a COPY/ADD selected
// (destination-relative path, type, mode, uid/gid as they will be written, size, content sha256,
// link target — never times), with a persistent memo keyed by (path, size, mtime, ctime, inode,
// device) so that files whose stat is unchanged are not read again on the next build.
import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Chmod } from "./chmod.js";
import { landedMetadata } from "./landed.js";
import type { SelectedEntry, Selection } from "./select.js";

export interface HashOptions {
  /** `--chmod`: the mode every copied file and directory gets. */
  chmod?: Chmod;
  /** `--chown`, resolved to numbers. */
  chown?: { uid: number; gid: number };
  signal?: AbortSignal;
}

interface MemoRecord {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
  digest: string;
}

const MEMO_VERSION = 1;
const SMALL_FILE = 1 << 20;
const PARALLEL_READS = 16;

/** Holds the content memo of one source root; counters let callers (and tests) see what was read. */
export class ContentHasher {
  /** Files whose content was read and hashed. */
  filesHashed = 0;
  /** Files whose digest came from the memo. */
  memoHits = 0;
  private dirty = false;

  private constructor(
    private readonly memo: Map<string, MemoRecord>,
    private readonly memoPath: string | undefined,
  ) {}

  /** A hasher whose memo persists at `memoPath` (missing or unreadable memo: start empty). */
  static async open(memoPath: string | undefined): Promise<ContentHasher> {
    const memo = new Map<string, MemoRecord>();
    if (memoPath !== undefined) {
      const text = await readFile(memoPath, "utf8").catch(() => undefined);
      const parsed = text === undefined ? undefined : safeParse(text);
      if (parsed?.version === MEMO_VERSION) for (const [path, record] of Object.entries(parsed.files)) memo.set(path, record);
    }
    return new ContentHasher(memo, memoPath);
  }

  static inMemory(): ContentHasher {
    return new ContentHasher(new Map(), undefined);
  }

  /** sha256 of one file's content, from the memo when its stat is unchanged. */
  async fileDigest(entry: SelectedEntry, signal?: AbortSignal): Promise<string> {
    const known = this.memo.get(entry.path);
    if (
      known &&
      known.size === entry.size &&
      known.mtimeMs === entry.mtimeMs &&
      known.ctimeMs === entry.ctimeMs &&
      known.ino === entry.ino &&
      known.dev === entry.dev
    ) {
      this.memoHits++;
      return known.digest;
    }
    const hash = createHash("sha256");
    // Small files in one read (bounded memory, far less overhead per file); large ones streamed.
    if (entry.size <= SMALL_FILE) hash.update(await readFile(entry.path, { signal }));
    else await pipeline(createReadStream(entry.path), hash, { signal });
    const digest = hash.digest("hex");
    this.filesHashed++;
    this.memo.set(entry.path, { size: entry.size, mtimeMs: entry.mtimeMs, ctimeMs: entry.ctimeMs, ino: entry.ino, dev: entry.dev, digest });
    this.dirty = true;
    return digest;
  }

  /**
   * `sha256:<hex>` over the selection as it will land: each source's prefix and entries with
   * the mode and owner the copy gives them. Equal selections hash equally on any machine.
   */
  async hashSelection(selection: Selection, options: HashOptions = {}): Promise<string> {
    return (await this.describeSelection(selection, options)).digest;
  }

  /**
   * The digest plus one digest per destination-relative path, so a cache miss can name the
   * files that changed (`diffSelectionDigests`).
   */
  async describeSelection(selection: Selection, options: HashOptions = {}): Promise<SelectionDigest> {
    const digests = await this.fileDigests(selection, options.signal);
    const files: Record<string, string> = {};
    const firstOfInode = new Map<string, string>();
    const top = createHash("sha256");
    top.update(`selection v1 parents=${selection.parents}\n`);
    for (const source of selection.sources) {
      const node = createHash("sha256");
      for (const entry of source.entries) {
        const { uid, gid, mode } = landedMetadata(selection, entry, options);
        const content = digests.get(entry) ?? "";
        const path = [source.prefix, entry.rel].filter(Boolean).join("/");
        // A hardlink lands as a link to its first path, which the layer keeps: part of the content.
        const inode = entry.kind === "file" && entry.nlink > 1 ? `${entry.dev}:${entry.ino}` : undefined;
        const linkedTo = inode === undefined ? undefined : firstOfInode.get(inode);
        if (inode !== undefined && linkedTo === undefined) firstOfInode.set(inode, path);
        const line = `${JSON.stringify(entry.rel)} ${entry.kind} ${mode.toString(8)} ${uid}:${gid} ${entry.size} ${content} ${JSON.stringify(entry.linkTarget ?? "")} ${JSON.stringify(linkedTo ?? "")}\n`;
        node.update(line);
        files[path] = createHash("sha256").update(line).digest("hex");
      }
      top.update(`${JSON.stringify(source.prefix)} ${source.kind} ${node.digest("hex")}\n`);
    }
    await this.save();
    return { digest: `sha256:${top.digest("hex")}`, files };
  }

  /** Content digests of every file in the selection, a few reads at a time. */
  private async fileDigests(selection: Selection, signal: AbortSignal | undefined): Promise<Map<SelectedEntry, string>> {
    const files = selection.sources.flatMap((s) => s.entries.filter((e) => e.kind === "file"));
    const out = new Map<SelectedEntry, string>();
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        signal?.throwIfAborted();
        const entry = files[next++]!;
        out.set(entry, await this.fileDigest(entry, signal));
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, files.length) }, worker));
    return out;
  }

  /** Writes the memo (when it changed) to a temp file and renames it into place. */
  async save(): Promise<void> {
    if (!this.dirty || this.memoPath === undefined) return;
    const tmp = `${this.memoPath}.${randomUUID()}.tmp`;
    await mkdir(dirname(this.memoPath), { recursive: true });
    await writeFile(tmp, JSON.stringify({ version: MEMO_VERSION, files: Object.fromEntries(this.memo) }));
    await rename(tmp, this.memoPath);
    this.dirty = false;
  }
}

export interface SelectionDigest {
  digest: string;
  /** Destination-relative path ("" for a directory source itself) → digest of everything hashed about it. */
  files: Record<string, string>;
}

/** Which paths differ between two described selections, sorted; for explaining a cache miss. */
export function diffSelectionDigests(before: Record<string, string>, after: Record<string, string>): { changed: string[]; added: string[]; removed: string[] } {
  const changed: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const [path, digest] of Object.entries(after)) {
    if (!(path in before)) added.push(path);
    else if (before[path] !== digest) changed.push(path);
  }
  for (const path of Object.keys(before)) if (!(path in after)) removed.push(path);
  return { changed: changed.sort(), added: added.sort(), removed: removed.sort() };
}

/** Hashes a selection with the memo of the root it came from. */
export function hashSelection(selection: Selection, options: HashOptions = {}): Promise<string> {
  return selection.hasher.hashSelection(selection, options);
}

function safeParse(text: string): { version: number; files: Record<string, MemoRecord> } | undefined {
  try {
    return JSON.parse(text) as { version: number; files: Record<string, MemoRecord> };
  } catch {
    return undefined;
  }
}

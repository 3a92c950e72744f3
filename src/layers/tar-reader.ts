import { BLOCK, padding, type TarEntryType, type TarHeader } from "./tar-header.js";
import { StoreError } from "./store-errors.js";

// A streaming tar reader: ustar, PAX (`x`, `g`) and GNU long names (`L`, `K`); bodies are handed out
// chunk by chunk, so memory does not grow with entry size. PAX values stay bytes (xattrs are binary).

/** An entry as read: every header field present (the raw archive path is not yet cleaned: apply does that). */
export type TarEntry = Required<TarHeader>;

export interface TarItem {
  entry: TarEntry;
  /** The entry's content; read it before asking for the next item (unread bytes are skipped). */
  body: AsyncGenerator<Buffer>;
}

const types: Record<string, TarEntryType> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "1": "hardlink",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "dir",
  "6": "fifo",
};

function malformed(message: string): StoreError {
  return new StoreError("LAYER_TAR_INVALID", `layer tar is malformed: ${message}`, {
    hint: "The layer blob is damaged or not a tar archive; pull or rebuild it.",
  });
}

/** Reads exact byte counts from a stream of chunks. */
class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private done = false;
  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n && !this.done) {
      const next = await this.source.next();
      if (next.done) this.done = true;
      else if (next.value.length) {
        this.chunks.push(next.value);
        this.buffered += next.value.length;
      }
    }
    return this.buffered >= n;
  }

  /** Exactly n bytes, or null at a clean end of input. */
  async read(n: number): Promise<Buffer | null> {
    if (!(await this.fill(n))) {
      if (this.buffered === 0) return null;
      throw malformed("unexpected end of archive");
    }
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  /** n bytes as a sequence of chunks (at most one chunk buffered). */
  async *stream(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0 && !(await this.fill(1))) throw malformed("unexpected end of archive inside an entry");
      const head = this.chunks[0]!;
      if (head.length <= left) {
        this.chunks.shift();
        this.buffered -= head.length;
        left -= head.length;
        yield head;
      } else {
        this.chunks[0] = head.subarray(left);
        this.buffered -= left;
        const part = head.subarray(0, left);
        left = 0;
        yield part;
      }
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.stream(n));
  }

  /** Whatever follows the archive (zero padding); read to the end so a digest covers every byte. */
  async drainRest(): Promise<void> {
    while (!this.done) await this.fill(this.buffered + 1);
    this.chunks = [];
    this.buffered = 0;
  }
}

function cString(b: Buffer, offset: number, width: number): string {
  const field = b.subarray(offset, offset + width);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? width : end).toString("utf8");
}

function number(b: Buffer, offset: number, width: number): number {
  const field = b.subarray(offset, offset + width);
  if (field[0]! & 0x80) {
    // GNU base-256: big-endian two's complement with the top bit as a marker.
    let value = field[0]! & 0x7f;
    for (let i = 1; i < width; i++) value = value * 256 + field[i]!;
    return value;
  }
  const text = field.toString("latin1").replace(/\0.*$/s, "").trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw malformed(`bad number field "${text}"`);
  return parseInt(text, 8);
}

function checksumOk(b: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : b[i]!;
  return sum === number(b, 148, 8);
}

function parsePax(body: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let pos = 0;
  while (pos < body.length) {
    const space = body.indexOf(0x20, pos);
    if (space < 0) throw malformed("bad PAX record");
    const len = Number(body.subarray(pos, space).toString("latin1"));
    if (!Number.isInteger(len) || len <= 0 || pos + len > body.length) throw malformed("bad PAX record length");
    const record = body.subarray(space + 1, pos + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq < 0) throw malformed("PAX record without '='");
    records.set(record.subarray(0, eq).toString("utf8"), Buffer.from(record.subarray(eq + 1)));
    pos += len;
  }
  return records;
}

const maxMetaSize = 1 << 20;

/** Yields each entry of a tar stream in order. */
export async function* readTar(source: AsyncIterable<Buffer>): AsyncGenerator<TarItem> {
  const reader = new ByteReader(source[Symbol.asyncIterator]());
  let global = new Map<string, Buffer>();
  let pax: Map<string, Buffer> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await reader.read(BLOCK);
    if (block === null) return;
    if (block.every((byte) => byte === 0)) {
      await reader.drainRest();
      return;
    }
    if (!checksumOk(block)) throw malformed("header checksum mismatch");
    const flag = String.fromCharCode(block[156]!);
    const size = number(block, 124, 12);
    if (flag === "x" || flag === "g" || flag === "L" || flag === "K") {
      if (size > maxMetaSize) throw malformed(`metadata entry of ${size} bytes`);
      const body = (await reader.read(size + padding(size))) ?? Buffer.alloc(0);
      const data = body.subarray(0, size);
      if (flag === "x") pax = parsePax(data);
      else if (flag === "g") global = new Map([...global, ...parsePax(data)]);
      else if (flag === "L") longName = cString(data, 0, data.length);
      else longLink = cString(data, 0, data.length);
      continue;
    }
    const type = types[flag];
    if (!type) {
      const name = cString(block, 0, 100);
      throw new StoreError("LAYER_ENTRY_UNSUPPORTED", `layer entry "${name}" has unsupported tar type '${flag}'`, {
        hint: "build-image unpacks files, directories, links, devices and fifos; rebuild the layer without this entry.",
      });
    }
    const records = new Map([...global, ...(pax ?? [])]);
    const magic = block.subarray(257, 263).toString("latin1");
    const prefix = magic.startsWith("ustar") ? cString(block, 345, 155) : "";
    let name = longName ?? (prefix ? `${prefix}/${cString(block, 0, 100)}` : cString(block, 0, 100));
    let linkname = longLink ?? cString(block, 157, 100);
    if (records.has("path")) name = records.get("path")!.toString("utf8");
    if (records.has("linkpath")) linkname = records.get("linkpath")!.toString("utf8");
    const num = (key: string, fallback: number) => (records.has(key) ? Number(records.get(key)!.toString("latin1")) : fallback);
    const xattrs = new Map<string, Buffer>();
    for (const [key, value] of records) if (key.startsWith("SCHILY.xattr.")) xattrs.set(key.slice(13), value);
    const entry: TarEntry = {
      name,
      type,
      mode: number(block, 100, 8),
      uid: num("uid", number(block, 108, 8)),
      gid: num("gid", number(block, 116, 8)),
      size: type === "file" ? num("size", size) : 0,
      mtime: Math.floor(num("mtime", number(block, 136, 12))),
      linkname,
      devmajor: number(block, 329, 8),
      devminor: number(block, 337, 8),
      xattrs,
    };
    pax = undefined;
    longName = undefined;
    longLink = undefined;
    // A hardlink may announce a size but carries no data in archives that follow POSIX; others skip it.
    const dataSize = type === "file" ? entry.size : type === "hardlink" ? 0 : size;
    let remaining = dataSize;
    const body = (async function* () {
      for await (const chunk of reader.stream(remaining)) {
        remaining -= chunk.length;
        yield chunk;
      }
    })();
    yield { entry, body };
    // Whatever the consumer left unread (also when it stopped early) is skipped here.
    await reader.skip(remaining + padding(dataSize));
  }
}

// The tar format, as layers need it: POSIX ustar headers, with a PAX extended header in front whenever a
// value does not fit ustar (long or non-ASCII names and link targets, big sizes or ids, xattrs).
// Written deterministically: no user or group names, no PAX header name that varies (GNU tar puts a pid in
// it), octal numbers zero-padded, device numbers zero for non-devices.

export const BLOCK = 512;

export type TarEntryType = "file" | "hardlink" | "symlink" | "char" | "block" | "dir" | "fifo";

const typeFlag: Record<TarEntryType, string> = { file: "0", hardlink: "1", symlink: "2", char: "3", block: "4", dir: "5", fifo: "6" };

export interface TarHeader {
  /** Archive path, relative, without leading "./"; directories without the trailing "/" (added here). */
  name: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of content that follow (regular files only). */
  size: number;
  /** Whole seconds since the epoch. */
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes, written as PAX `SCHILY.xattr.<name>` records (GNU tar's and Go's convention). */
  xattrs?: Map<string, Buffer>;
}

/** The header block(s) of one entry: a PAX header when needed, then the ustar header. */
export function encodeHeader(header: TarHeader): Buffer {
  const name = header.type === "dir" ? `${header.name}/` : header.name;
  const pax: [string, Buffer][] = [];
  const split = splitUstarName(name);
  if (!split) pax.push(["path", Buffer.from(name)]);
  const linkname = header.linkname ?? "";
  if (Buffer.byteLength(linkname) > 100 || !isAscii(linkname)) pax.push(["linkpath", Buffer.from(linkname)]);
  if (header.size > 0o77777777777) pax.push(["size", Buffer.from(String(header.size))]);
  if (header.uid > 0o7777777) pax.push(["uid", Buffer.from(String(header.uid))]);
  if (header.gid > 0o7777777) pax.push(["gid", Buffer.from(String(header.gid))]);
  const mtime = Math.max(0, Math.floor(header.mtime));
  if (mtime > 0o77777777777) pax.push(["mtime", Buffer.from(String(mtime))]);
  if (header.xattrs) {
    for (const key of [...header.xattrs.keys()].sort()) pax.push([`SCHILY.xattr.${key}`, header.xattrs.get(key)!]);
  }
  const ustar = ustarBlock({
    prefix: split?.prefix ?? "",
    name: split?.name ?? truncateBytes(name, 100),
    typeFlag: typeFlag[header.type],
    mode: header.mode & 0o7777,
    uid: Math.min(header.uid, 0o7777777),
    gid: Math.min(header.gid, 0o7777777),
    size: Math.min(header.size, 0o77777777777),
    mtime: Math.min(mtime, 0o77777777777),
    linkname: Buffer.byteLength(linkname) > 100 || !isAscii(linkname) ? truncateBytes(linkname, 100) : linkname,
    devmajor: header.devmajor ?? 0,
    devminor: header.devminor ?? 0,
  });
  if (pax.length === 0) return ustar;
  const body = Buffer.concat(pax.map(([key, value]) => paxRecord(key, value)));
  const paxHeader = ustarBlock({
    prefix: "",
    name: truncateBytes(`PaxHeaders/${name}`, 100),
    typeFlag: "x",
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: body.length,
    mtime: Math.min(mtime, 0o77777777777),
    linkname: "",
    devmajor: 0,
    devminor: 0,
  });
  return Buffer.concat([paxHeader, body, Buffer.alloc(padding(body.length)), ustar]);
}

/** The two zero blocks that end an archive. */
export function endOfArchive(): Buffer {
  return Buffer.alloc(2 * BLOCK);
}

export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function isAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

function truncateBytes(s: string, max: number): string {
  const b = Buffer.from(s);
  return b.length <= max ? s : b.subarray(0, max).toString("latin1");
}

/** ustar's name (100 bytes) + prefix (155 bytes) split at a "/", or null when the name does not fit. */
function splitUstarName(name: string): { prefix: string; name: string } | null {
  if (!isAscii(name)) return null;
  if (name.length <= 100) return { prefix: "", name };
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== "/") continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (prefix.length <= 155 && rest.length <= 100 && rest.length > 0) return { prefix, name: rest };
    if (prefix.length <= 155) break;
  }
  return null;
}

/** A PAX record "<len> <key>=<value>\n", where <len> counts the whole record including itself. */
function paxRecord(key: string, value: Buffer): Buffer {
  const rest = Buffer.byteLength(key) + value.length + 3; // " ", "=", "\n"
  let len = rest + String(rest).length;
  if (String(len).length !== String(rest).length) len = rest + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from("\n")]);
}

interface UstarFields {
  prefix: string;
  name: string;
  typeFlag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
}

function ustarBlock(f: UstarFields): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(f.name, 0, 100, "latin1");
  octal(b, 100, 8, f.mode);
  octal(b, 108, 8, f.uid);
  octal(b, 116, 8, f.gid);
  octal(b, 124, 12, f.size);
  octal(b, 136, 12, f.mtime);
  b.write(f.typeFlag, 156, 1, "latin1");
  b.write(f.linkname, 157, 100, "latin1");
  b.write("ustar\u000000", 257, 8, "latin1");
  octal(b, 329, 8, f.devmajor);
  octal(b, 337, 8, f.devminor);
  b.write(f.prefix, 345, 155, "latin1");
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  b.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, 8, "latin1");
  return b;
}

function octal(b: Buffer, offset: number, width: number, value: number): void {
  b.write(`${value.toString(8).padStart(width - 1, "0")}\u0000`, offset, width, "latin1");
}

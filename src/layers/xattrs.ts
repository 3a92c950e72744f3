import { execFile } from "node:child_process";
import { writeFile, rm } from "node:fs/promises";
import { promisify } from "node:util";
import { StoreError } from "./store-errors.js";

// Node has no xattr calls, so extended attributes go through the attr package's getfattr/setfattr: one
// process per tree walk or per batch, never one per file.

const run = promisify(execFile);

/** Xattrs kept in layers: all but overlay's own bookkeeping and per-host labels and ACL internals. */
export function isLayerXattr(name: string): boolean {
  return !name.startsWith("trusted.overlay.") && name !== "security.selinux" && !name.startsWith("system.");
}

/** Every xattr under `dir` (not following symlinks), keyed by path relative to `dir` ("" for `dir` itself). */
export async function readTreeXattrs(dir: string, signal?: AbortSignal): Promise<Map<string, Map<string, Buffer>>> {
  signal?.throwIfAborted();
  const { stdout } = await run("getfattr", ["-R", "-P", "-h", "-d", "-m", "-", "-e", "hex", "."], {
    cwd: dir,
    maxBuffer: 1 << 30,
    encoding: "buffer",
    signal,
  }).catch((err: { stdout?: Buffer; stderr?: Buffer; code?: unknown; name?: string }) => {
    if (err.name === "AbortError") throw err;
    // getfattr exits 1 when some file vanished or refused; what it printed is still right.
    if (err.code === 1 && err.stdout) return { stdout: err.stdout };
    throw new StoreError("XATTR_READ_FAILED", `getfattr failed in ${dir}: ${String(err.stderr ?? err).trim()}`, {
      hint: "Install the attr package (getfattr, setfattr).",
      cause: err,
    });
  });
  const result = new Map<string, Map<string, Buffer>>();
  let current: Map<string, Buffer> | undefined;
  for (const line of stdout.toString("latin1").split("\n")) {
    if (line.startsWith("# file: ")) {
      const raw = unescapeName(line.slice(8));
      const rel = raw === "." ? "" : raw.startsWith("./") ? raw.slice(2) : raw;
      current = new Map();
      result.set(rel, current);
    } else if (current && line.includes("=")) {
      const eq = line.indexOf("=");
      const value = line.slice(eq + 1);
      current.set(unescapeName(line.slice(0, eq)), value.startsWith("0x") ? Buffer.from(value.slice(2), "hex") : Buffer.alloc(0));
    }
  }
  return result;
}

/** Sets xattrs on files under `dir` (paths relative to it) with one setfattr run. */
export async function writeTreeXattrs(dir: string, xattrs: Map<string, Map<string, Buffer>>, tmpFile: string): Promise<void> {
  if (xattrs.size === 0) return;
  let dump = "";
  for (const [rel, attrs] of xattrs) {
    dump += `# file: ${escapeName(rel === "" ? "." : rel)}\n`;
    for (const [name, value] of attrs) dump += `${escapeName(name)}=0x${value.toString("hex")}\n`;
    dump += "\n";
  }
  await writeFile(tmpFile, dump, "latin1");
  try {
    await run("setfattr", ["-h", `--restore=${tmpFile}`], { cwd: dir }).catch((err: { stderr?: string }) => {
      throw new StoreError("LAYER_XATTR_FAILED", `could not set extended attributes in ${dir}: ${String(err.stderr ?? err).trim()}`, {
        hint: "Run as root (trusted.* and security.* xattrs need it) on a filesystem with xattr support.",
        cause: err,
      });
    });
  } finally {
    await rm(tmpFile, { force: true });
  }
}

/** getfattr's quoting: non-printable bytes and "\" as \ooo. Returns a latin1 string of the UTF-8 bytes. */
function escapeName(name: string): string {
  let out = "";
  for (const byte of Buffer.from(name, "utf8")) {
    out += byte < 0x20 || byte >= 0x7f || byte === 0x5c || byte === 0x3d ? `\\${byte.toString(8).padStart(3, "0")}` : String.fromCharCode(byte);
  }
  return out;
}

function unescapeName(quoted: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < quoted.length; i++) {
    const m = quoted[i] === "\\" ? /^[0-7]{3}/.exec(quoted.slice(i + 1, i + 4)) : null;
    if (m) {
      bytes.push(parseInt(m[0], 8));
      i += 3;
    } else bytes.push(quoted.charCodeAt(i) & 0xff);
  }
  return Buffer.from(bytes).toString("utf8");
}

// Resolving `user[:group]` against a root filesystem's /etc/passwd and /etc/group, for
// COPY/ADD --chown and USER. The files are read through resolveInRoot, so a symlinked /etc in the
// image cannot make us read the host's.
import { readFile } from "node:fs/promises";
import { ContextError } from "./errors.js";
import { resolveInRoot } from "./in-root.js";

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups: the /etc/group entries that list the user by name. */
  additionalGids: number[];
}

export interface ResolveUserOptions {
  /**
   * The gid when the spec names no group and the user is a number not in /etc/passwd:
   * "uid" (the same number, as Docker documents for --chown) or "root" (0, as USER does). Default "root".
   */
  missingGroup?: "uid" | "root";
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const NUMERIC = /^\d+$/;

export async function resolveUserSpec(rootfs: string, spec: string, options: ResolveUserOptions = {}): Promise<ResolvedUser> {
  const [userPart = "", groupPart] = spec.split(":", 2);
  if (userPart === "") throw new ContextError("USER_NOT_FOUND", `invalid user ${JSON.stringify(spec)}`, { hint: "Write user, user:group, uid or uid:gid." });
  const passwd = await readTable(rootfs, "/etc/passwd", parsePasswd);
  const groups = await readTable(rootfs, "/etc/group", parseGroup);
  const user = NUMERIC.test(userPart) ? passwd.find((p) => p.uid === Number(userPart)) : passwd.find((p) => p.name === userPart);
  if (user === undefined && !NUMERIC.test(userPart)) {
    throw new ContextError("USER_NOT_FOUND", `user ${JSON.stringify(userPart)} not found in /etc/passwd of the image`, {
      hint: "Create the user in an earlier RUN step, or use a numeric uid.",
    });
  }
  const uid = user?.uid ?? Number(userPart);
  let gid: number;
  if (groupPart !== undefined && groupPart !== "") {
    const group = NUMERIC.test(groupPart) ? { gid: Number(groupPart) } : groups.find((g) => g.name === groupPart);
    if (group === undefined) {
      throw new ContextError("GROUP_NOT_FOUND", `group ${JSON.stringify(groupPart)} not found in /etc/group of the image`, {
        hint: "Create the group in an earlier RUN step, or use a numeric gid.",
      });
    }
    gid = group.gid;
  } else {
    gid = user?.gid ?? ((options.missingGroup ?? "root") === "uid" ? uid : 0);
  }
  const additionalGids = user === undefined ? [] : groups.filter((g) => g.members.includes(user.name) && g.gid !== gid).map((g) => g.gid);
  return { uid, gid, additionalGids: [...new Set(additionalGids)] };
}

async function readTable<T>(rootfs: string, path: string, parse: (fields: string[]) => T | undefined): Promise<T[]> {
  // A missing, unreadable or looping file reads as empty: names then fail as not found.
  const text = await resolveInRoot(rootfs, path)
    .then((where) => readFile(where.abs, "utf8"))
    .catch(() => "");
  return text
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => parse(line.split(":")))
    .filter((e): e is T => e !== undefined);
}

function parsePasswd(f: string[]): PasswdEntry | undefined {
  if (f.length < 4 || !NUMERIC.test(f[2]!) || !NUMERIC.test(f[3]!)) return undefined;
  return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]) };
}

function parseGroup(f: string[]): GroupEntry | undefined {
  if (f.length < 3 || !NUMERIC.test(f[2]!)) return undefined;
  return { name: f[0]!, gid: Number(f[2]), members: (f[3] ?? "").split(",").map((m) => m.trim()).filter(Boolean) };
}

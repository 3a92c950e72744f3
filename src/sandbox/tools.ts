import { access, constants } from "node:fs/promises";
import { join } from "node:path";
import { SandboxSetupError } from "./errors.js";

const found = new Map<string, Promise<string | undefined>>();

/** The absolute path of a host program (PATH, then the sbin dirs root's PATH may lack), or undefined. */
export function lookupTool(name: string): Promise<string | undefined> {
  let hit = found.get(name);
  if (!hit) {
    const dirs = [...(process.env.PATH ?? "").split(":").filter(Boolean), "/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"];
    hit = (async () => {
      for (const dir of dirs) {
        const path = join(dir, name);
        if (await access(path, constants.X_OK).then(() => true, () => false)) return path;
      }
      return undefined;
    })();
    found.set(name, hit);
  }
  return hit;
}

export async function findTool(name: string): Promise<string> {
  const path = await lookupTool(name);
  if (!path) throw new SandboxSetupError(`${name} is not installed`, `install ${name} (util-linux, perl-base and runc/crun are Debian packages)`);
  return path;
}

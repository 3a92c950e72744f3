import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";

// Temporary entries and active snapshots carry the name of the process that made them, `<pid>.<start>`,
// so that the next open of the store can tell a crashed writer's leftovers from a live writer's work.
// The start time (from /proc) guards against a recycled pid.

function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22 (starttime) follows the ")" that ends the command name, which may itself hold spaces.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

const selfTag = `${process.pid}.${startTimeOf(process.pid) ?? "0"}`;

/** The owner tag of this process. */
export function ownerTag(): string {
  return selfTag;
}

/** A fresh name for a temporary entry owned by this process: `<pid>.<start>.<random>`. */
export function ownedName(suffix = ""): string {
  return `${selfTag}.${randomBytes(6).toString("hex")}${suffix}`;
}

/** Whether `name` starts with an owner tag (as `ownedName` makes them). */
export function isOwnedName(name: string): boolean {
  return /^\d+\.\d+(\.|$)/.test(name);
}

/** True when the process named in an owned name (or tag) is still running; false for foreign names. */
export function ownerAlive(name: string): boolean {
  const match = /^(\d+)\.(\d+)(\.|$)/.exec(name);
  if (!match) return false;
  return startTimeOf(Number(match[1])) === match[2];
}

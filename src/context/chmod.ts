// `--chmod` as COPY/ADD take it: octal (`755`) gives every entry that mode; symbolic (`u+x,g-w`, as
// chmod(1) and BuildKit read it) changes each entry's own mode. `X` adds execute only to directories and
// to files that already have an execute bit.

/** A `--chmod` value ready to apply: a fixed mode, or clauses applied to each entry's mode. */
export type Chmod = number | { symbolic: string };

const CLASS_BITS = { u: 0o700, g: 0o070, o: 0o007 } as const;
const SPECIAL_BITS = { u: 0o4000, g: 0o2000, o: 0o1000 } as const;
const CLAUSE = /^([ugoa]*)((?:[-+=](?:[ugo]|[rwxXst]*))+)$/;

/** Parses `--chmod`; undefined for an invalid value (the front end has rejected those already). */
export function parseChmod(text: string): Chmod | undefined {
  if (/^[0-7]{1,4}$/.test(text)) return parseInt(text, 8);
  return text.split(",").every((clause) => CLAUSE.test(clause)) ? { symbolic: text } : undefined;
}

/** The mode an entry with mode `mode` gets. */
export function applyChmod(chmod: Chmod, mode: number, isDir: boolean): number {
  if (typeof chmod === "number") return chmod;
  let result = mode & 0o7777;
  for (const clause of chmod.symbolic.split(",")) {
    const [, whoText = "", ops = ""] = CLAUSE.exec(clause) ?? [];
    const who = (whoText === "" || whoText.includes("a") ? "ugo" : whoText).split("") as ("u" | "g" | "o")[];
    for (const [, op, perms = ""] of ops.matchAll(/([-+=])([ugo]|[rwxXst]*)/g)) {
      let bits = 0;
      for (const w of who) bits |= permissionBits(perms, w, result, isDir);
      const affected = who.reduce((m, w) => m | CLASS_BITS[w] | SPECIAL_BITS[w], 0);
      if (op === "+") result |= bits;
      else if (op === "-") result &= ~bits;
      // `=` sets the classes named (their special bits too) to exactly the bits given.
      else result = (result & ~affected) | bits;
    }
  }
  return result;
}

/** The bits `perms` means for class `w`, copying from `current` for `u`, `g` and `o` sources. */
function permissionBits(perms: string, w: "u" | "g" | "o", current: number, isDir: boolean): number {
  const shift = { u: 6, g: 3, o: 0 }[w];
  if (perms === "u" || perms === "g" || perms === "o") return ((current >> { u: 6, g: 3, o: 0 }[perms]) & 0o7) << shift;
  let rwx = 0;
  let special = 0;
  for (const p of perms) {
    if (p === "r") rwx |= 0o4;
    else if (p === "w") rwx |= 0o2;
    else if (p === "x") rwx |= 0o1;
    else if (p === "X" && (isDir || (current & 0o111) !== 0)) rwx |= 0o1;
    else if (p === "s" && w !== "o") special |= SPECIAL_BITS[w];
    else if (p === "t" && w === "o") special |= SPECIAL_BITS.o;
  }
  return (rwx << shift) | special;
}

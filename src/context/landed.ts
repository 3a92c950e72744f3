import { applyChmod, type Chmod } from "./chmod.js";
import type { SelectedEntry, Selection } from "./select.js";

/** The owner and mode an entry lands with: --chown/--chmod, else the source's (stages) or 0:0 (context). */
export function landedMetadata(selection: Selection, entry: SelectedEntry, options: { chown?: { uid: number; gid: number }; chmod?: Chmod }): { uid: number; gid: number; mode: number } {
  const owner = options.chown ?? (selection.preserveOwner ? { uid: entry.uid, gid: entry.gid } : { uid: 0, gid: 0 });
  // A symlink's own mode means nothing on Linux; it is not copied.
  const mode = entry.kind === "symlink" ? 0o777 : options.chmod === undefined ? entry.mode : applyChmod(options.chmod, entry.mode, entry.kind === "dir");
  return { uid: owner.uid, gid: owner.gid, mode };
}

import type { ActiveSnapshot, CommitOptions, CommittedLayer, Snapshotter } from "./snapshots.js";

/**
 * prepare → `fn(root)` → commit, with the snapshot aborted (unmounted, removed) when `fn` or the commit
 * throws: the way to make a layer without ever leaking a mount.
 *
 *     const { layer } = await runInSnapshot(store.snapshots, parent, (root) => runStep(root), { sourceDateEpoch });
 */
export async function runInSnapshot<T>(
  snapshots: Snapshotter,
  parent: string | null,
  fn: (root: string, active: ActiveSnapshot) => Promise<T>,
  opts: CommitOptions = {},
): Promise<{ value: T; layer: CommittedLayer }> {
  const active = await snapshots.prepare(parent, opts.signal ? { signal: opts.signal } : {});
  try {
    const value = await fn(active.root, active);
    return { value, layer: await active.commit(opts) };
  } catch (err) {
    await active.abort();
    throw err;
  }
}

/**
 * Runs `fn` over `items`, at most `limit` at once. After the first failure no new item starts, and the
 * promise settles (with that first error) only once the items in flight have finished too: nothing keeps
 * running, or writing into a caller's store, after the caller has been told.
 */
export async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failure) {
      try {
        await fn(items[next++]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
}

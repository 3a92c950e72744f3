// Run by records.test.ts in its own process: puts `count` records into the cache at argv[2], the shared keys
// (same inputs for both writers) interleaved with keys of its own, each carrying a large field, so a
// half-written record would be visible to a reader if puts were not atomic.
import { cacheKey, openCache } from "../../src/cache/index.js";

const [root, name, countText] = process.argv.slice(2);
const cache = await openCache(root!);
const big = "x".repeat(64 * 1024);
for (let i = 0; i < Number(countText); i++) {
  for (const owner of ["shared", name!]) {
    const inputs = { kind: "run" as const, fields: { command: `step ${i} of ${owner}`, padding: big } };
    await cache.put(cacheKey(null, inputs), { parent: null, inputs, result: { empty: true, chainId: null }, slot: `slot-${owner}-${i}` });
  }
}

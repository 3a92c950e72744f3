// Run by mounts.test.ts in its own process: takes cache mount argv[3] with sharing argv[4] in root argv[2],
// prints "held <dir>", and keeps it until killed or until stdin closes (then releases and exits).
import { acquireCacheMount, type CacheMountSharing } from "../../src/cache/index.js";

const [root, id, sharing] = process.argv.slice(2);
const mount = await acquireCacheMount(root!, { id: id!, sharing: sharing as CacheMountSharing });
process.stdout.write(`held ${mount.dir}\n`);
process.stdin.resume();
process.stdin.on("end", async () => {
  await mount.release();
  process.exit(0);
});

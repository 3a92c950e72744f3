// Child process for crash.test.ts: leaves work half done in a store and waits to be SIGKILLed —
// a blob half streamed into tmp/, an active snapshot mounted, a view mounted.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { openStore } from "../../src/layers/store.js";

const [root, kind] = process.argv.slice(2) as [string, "overlay" | "copy"];
const store = await openStore(root, { snapshotter: kind });
const base = (await store.snapshots.list())[0]!;

const active = await store.snapshots.prepare(base.chainId);
await writeFile(join(active.root, "half-done"), "x".repeat(10000));
const view = await store.snapshots.view(base.chainId);

let sent = 0;
const endless = new Readable({
  read() {
    // 4 MiB go out, then the stream stalls for good: the blob stays half written in tmp/.
    if (sent++ < 64) this.push(Buffer.alloc(64 * 1024, 7));
    else process.stdout.write(`ready ${active.root} ${view.root}\n`);
  },
});
void store.content.write(endless);
setInterval(() => undefined, 1000);

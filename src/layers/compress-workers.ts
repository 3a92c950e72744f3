import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

// Deflate on worker threads rather than in libuv's thread pool: the pool is also where file writes
// wait, and a pool full of deflate jobs would stall the very writes that drain them. The workers are
// started on first use, one per core, and unref'ed so they never keep the process alive.

const source = `
const { parentPort } = require("node:worker_threads");
const zlib = require("node:zlib");
parentPort.on("message", ({ id, data, level }) => {
  try {
    const chunkSize = Math.max(64 * 1024, data.length + (data.length >> 7) + 1024);
    const out = zlib.deflateRawSync(data, { level, chunkSize });
    parentPort.postMessage({ id, out }, [out.buffer]);
  } catch (err) {
    parentPort.postMessage({ id, error: String(err) });
  }
});
`;

interface Pending {
  resolve: (out: Buffer) => void;
  reject: (err: Error) => void;
}

interface DeflateWorker {
  worker: Worker;
  pending: Map<number, Pending>;
}

let workers: DeflateWorker[] | undefined;
let nextId = 0;

function start(): DeflateWorker[] {
  return Array.from({ length: Math.max(2, availableParallelism()) }, () => {
    const worker = new Worker(source, { eval: true });
    const entry: DeflateWorker = { worker, pending: new Map() };
    worker.on("message", (msg: { id: number; out?: Uint8Array; error?: string }) => {
      const job = entry.pending.get(msg.id);
      entry.pending.delete(msg.id);
      if (entry.pending.size === 0) worker.unref();
      if (msg.error !== undefined || !msg.out) job?.reject(new Error(`deflate failed: ${msg.error}`));
      else job?.resolve(Buffer.from(msg.out.buffer, msg.out.byteOffset, msg.out.byteLength));
    });
    worker.on("error", (err) => {
      for (const job of entry.pending.values()) job.reject(err);
      entry.pending.clear();
      workers = workers?.filter((w) => w !== entry);
    });
    worker.unref();
    return entry;
  });
}

/** Raw deflate of `data` on the least busy worker. */
export function deflateOnWorker(data: Buffer, level: number): Promise<Buffer> {
  workers = workers?.length ? workers : start();
  const entry = workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  const id = nextId++;
  return new Promise((resolve, reject) => {
    entry.pending.set(id, { resolve, reject });
    entry.worker.ref();
    // A copy of just this chunk, moved to the worker: cloning `data` itself would copy its whole backing
    // ArrayBuffer, which for a slice of a big buffer is far more than the chunk.
    const copy = new Uint8Array(data);
    entry.worker.postMessage({ id, data: copy, level }, [copy.buffer]);
  });
}

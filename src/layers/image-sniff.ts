import { open } from "node:fs/promises";
import { sniffCompression, type LayerCompression } from "./media-types.js";

/** The compression of a file, from its first bytes (a blob's media type may not say, or may lie). */
export async function sniffFileCompression(path: string): Promise<LayerCompression> {
  const handle = await open(path);
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return sniffCompression(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

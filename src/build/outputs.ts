/** `--output`: the built image as a `docker load` tar, an OCI layout (dir) or archive (.tar), or its files. */
import { cp, mkdir } from "node:fs/promises";
import { exportDockerArchive, exportOciArchive, exportOciLayout, type Store } from "../layers/index.js";
import type { ResolvedBuildOptions } from "./options.js";

export interface BuiltImage {
  manifestDigest: string;
  chainId: string | null;
  tags: string[];
}

export async function writeOutputs(store: Store, outputs: ResolvedBuildOptions["outputs"], image: BuiltImage): Promise<void> {
  const names = image.tags.length ? image.tags : [image.manifestDigest];
  for (const output of outputs) {
    switch (output.type) {
      case "docker":
        await exportDockerArchive(store, names, output.dest);
        break;
      case "oci":
        if (output.dest.endsWith(".tar")) await exportOciArchive(store, names, output.dest);
        else await exportOciLayout(store, names, output.dest);
        break;
      case "local": {
        await mkdir(output.dest, { recursive: true });
        if (image.chainId === null) break;
        const view = await store.snapshots.view(image.chainId);
        try {
          await cp(view.root, output.dest, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true, force: true });
        } finally {
          await view.release();
        }
        break;
      }
    }
  }
}

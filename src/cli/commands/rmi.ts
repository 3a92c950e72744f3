import { defaultRoot, removeImage, shortImageName, openStore } from "../../layers/index.js";
import { isBuildImageError } from "../../errors.js";
import { parseCommandLine, UsageError } from "../args.js";
import { EXIT_FAILED, EXIT_OK, type Command } from "../command.js";
import { renderError } from "../render-error.js";

const usage = `Usage: build-image rmi [OPTIONS] IMAGE [IMAGE...]

Remove local images: a name untags it; an ID or digest removes every name it has. The blobs and
snapshots of images no name points to any more are reclaimed by garbage collection.

Options:
      --root DIR   Store root (env BUILD_IMAGE_ROOT)
`;

export const rmiCommand: Command = {
  name: "rmi",
  summary: "Remove local images",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandLine(argv, { root: { type: "string" } }, "rmi") as { values: { root?: string }; positionals: string[] };
    if (positionals.length === 0) throw new UsageError("'build-image rmi' needs at least one image", "see 'build-image rmi --help'");
    const store = await openStore(values.root ?? defaultRoot(io.env));
    let code = EXIT_OK;
    try {
      // Like docker: each image on its own; a missing one is reported and the rest still go.
      for (const name of positionals) {
        try {
          const removed = await removeImage(store, name);
          for (const untagged of removed.untagged) io.stdout.write(`Untagged: ${shortImageName(untagged)}\n`);
          for (const deleted of removed.deleted) io.stdout.write(`Deleted: ${deleted}\n`);
        } catch (err) {
          if (!isBuildImageError(err)) throw err;
          renderError(err, io.stderr);
          code = EXIT_FAILED;
        }
      }
    } finally {
      await store.close();
    }
    return code;
  },
};

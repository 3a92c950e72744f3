import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { defaultRoot, importArchive, shortImageName, openStore, scratchPath } from "../../layers/index.js";
import { parseCommandLine, UsageError } from "../args.js";
import { EXIT_OK, type Command } from "../command.js";

const usage = `Usage: build-image load [-i FILE] [OPTIONS]

Load images from a 'docker save' tar, an OCI archive tar (plain or gzip) or an OCI image layout
directory, with the names the archive gives them. Without -i (or with -i -), the archive comes on stdin.

Options:
  -i, --input FILE   The archive or layout directory
  -q, --quiet        Print nothing
      --root DIR     Store root (env BUILD_IMAGE_ROOT)
`;

export const loadCommand: Command = {
  name: "load",
  summary: "Load images from a docker or OCI archive",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandLine(argv, { input: { type: "string", short: "i" }, quiet: { type: "boolean", short: "q" }, root: { type: "string" } }, "load") as { values: { input?: string; quiet?: boolean; root?: string }; positionals: string[] };
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`, "give the archive with -i FILE");
    const fromStdin = values.input === undefined || values.input === "-";
    if (fromStdin && (io.stdin as { isTTY?: boolean }).isTTY) throw new UsageError("no archive: stdin is a terminal", "give -i FILE, or pipe an archive in");
    const store = await openStore(values.root ?? defaultRoot(io.env));
    // An archive on stdin is spooled to tmp/ first: import reads a tar's JSON after its blobs.
    const input = fromStdin ? scratchPath(store, ".load.tar") : values.input!;
    try {
      if (fromStdin) await pipeline(io.stdin, createWriteStream(input, { flags: "wx" }));
      const images = await importArchive(store, input);
      if (!values.quiet) {
        for (const image of images) {
          if (image.names.length === 0) io.stdout.write(`Loaded image ID: ${image.manifestDigest}\n`);
          for (const name of image.names) io.stdout.write(`Loaded image: ${shortImageName(name)}\n`);
        }
      }
    } finally {
      if (fromStdin) await rm(input, { force: true });
      await store.close();
    }
    return EXIT_OK;
  },
};

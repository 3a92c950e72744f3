import { defaultRoot, importArchive, shortImageName, openStore } from "../../layers/index.js";
import { parseCommandLine, UsageError } from "../args.js";
import { EXIT_OK, type Command } from "../command.js";

const usage = `Usage: build-image load -i FILE [OPTIONS]

Load images from a 'docker save' tar, an OCI archive tar (plain or gzip) or an OCI image layout
directory, with the names the archive gives them.

Options:
  -i, --input FILE   The archive or layout directory (required)
  -q, --quiet        Print nothing
      --root DIR     Store root (env BUILD_IMAGE_ROOT)
`;

export const loadCommand: Command = {
  name: "load",
  summary: "Load images from a docker or OCI archive",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandLine(argv, { input: { type: "string", short: "i" }, quiet: { type: "boolean", short: "q" }, root: { type: "string" } }, "load") as { values: { input?: string; quiet?: boolean; root?: string }; positionals: string[] };
    const input = values.input ?? positionals[0];
    if (input === undefined) throw new UsageError("'build-image load' needs -i FILE", "see 'build-image load --help'");
    const store = await openStore(values.root ?? defaultRoot(io.env));
    try {
      const images = await importArchive(store, input);
      if (!values.quiet) {
        for (const image of images) {
          if (image.names.length === 0) io.stdout.write(`Loaded image ID: ${image.manifestDigest}\n`);
          for (const name of image.names) io.stdout.write(`Loaded image: ${shortImageName(name)}\n`);
        }
      }
    } finally {
      await store.close();
    }
    return EXIT_OK;
  },
};

import { defaultRoot, importRootfs, parsePlatform, openStore } from "../../layers/index.js";
import { parseCommandLine, UsageError } from "../args.js";
import { EXIT_OK, type Command } from "../command.js";

const usage = `Usage: build-image import [OPTIONS] ROOTFS_DIR_OR_TAR [TAG]

Make a one-layer image from a root filesystem (a directory, or a tar: plain, gzip or zstd), as
'docker import' does. Prints the image ID.

Options:
  -m, --message TEXT   History comment
      --platform P     os/arch[/variant] for the config (default: this host's)
      --root DIR       Store root (env BUILD_IMAGE_ROOT)
`;

export const importCommand: Command = {
  name: "import",
  summary: "Make an image from a root filesystem",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandLine(argv, { message: { type: "string", short: "m" }, platform: { type: "string" }, root: { type: "string" } }, "import") as { values: { message?: string; platform?: string; root?: string }; positionals: string[] };
    if (positionals.length < 1 || positionals.length > 2) throw new UsageError("'build-image import' needs ROOTFS_DIR_OR_TAR and optionally a TAG", "see 'build-image import --help'");
    const [source, tag] = positionals as [string, string | undefined];
    const platform = values.platform === undefined ? undefined : parsePlatform(values.platform);
    const store = await openStore(values.root ?? defaultRoot(io.env));
    try {
      const image = await importRootfs(store, source, tag, { ...(values.message !== undefined ? { message: values.message } : {}), ...(platform ? { platform } : {}) });
      io.stdout.write(`${image.configDigest}\n`);
    } finally {
      await store.close();
    }
    return EXIT_OK;
  },
};

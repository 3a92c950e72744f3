import { defaultRoot, requireLocalImage, tagImage, openStore } from "../../layers/index.js";
import { parseCommandLine, UsageError } from "../args.js";
import { EXIT_OK, type Command } from "../command.js";

const usage = `Usage: build-image tag [OPTIONS] SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]

Give a local image another name.

Options:
      --root DIR   Store root (env BUILD_IMAGE_ROOT)
`;

export const tagCommand: Command = {
  name: "tag",
  summary: "Give a local image another name",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandLine(argv, { root: { type: "string" } }, "tag") as { values: { root?: string }; positionals: string[] };
    if (positionals.length !== 2) throw new UsageError("'build-image tag' needs exactly two arguments: SOURCE and TARGET", "see 'build-image tag --help'");
    const [source, target] = positionals as [string, string];
    const store = await openStore(values.root ?? defaultRoot(io.env));
    try {
      const image = await requireLocalImage(store, source);
      await tagImage(store, target, image.indexDigest ?? image.manifestDigest);
    } finally {
      await store.close();
    }
    return EXIT_OK;
  },
};

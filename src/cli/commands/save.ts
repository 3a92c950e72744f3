import { defaultRoot, exportDockerArchive, exportOciArchive, exportOciLayout, openStore } from "../../layers/index.js";
import { parseCommandLine, UsageError } from "../args.js";
import { EXIT_OK, type Command } from "../command.js";

const usage = `Usage: build-image save -o FILE [OPTIONS] IMAGE [IMAGE...]

Write local images to an archive.

Options:
  -o, --output FILE   Where to write (required)
      --format FORMAT docker (default: a 'docker save' tar for 'docker load') |
                      oci (an OCI archive tar) | oci-dir (an OCI image layout directory)
      --root DIR      Store root (env BUILD_IMAGE_ROOT)
`;

const exporters = { docker: exportDockerArchive, oci: exportOciArchive, "oci-dir": exportOciLayout } as const;

export const saveCommand: Command = {
  name: "save",
  summary: "Write images to a docker or OCI archive",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandLine(argv, { output: { type: "string", short: "o" }, format: { type: "string" }, root: { type: "string" } }, "save") as { values: { output?: string; format?: string; root?: string }; positionals: string[] };
    if (values.output === undefined) throw new UsageError("'build-image save' needs -o FILE", "see 'build-image save --help'");
    if (positionals.length === 0) throw new UsageError("'build-image save' needs at least one image", "see 'build-image save --help'");
    const format = values.format ?? "docker";
    if (!(format in exporters)) throw new UsageError(`--format '${format}': expected docker, oci or oci-dir`);
    const store = await openStore(values.root ?? defaultRoot(io.env));
    try {
      await exporters[format as keyof typeof exporters](store, positionals, values.output);
    } finally {
      await store.close();
    }
    return EXIT_OK;
  },
};

import { createReadStream } from "node:fs";
import { rm } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { defaultRoot, exportDockerArchive, exportOciArchive, exportOciLayout, openStore, scratchPath } from "../../layers/index.js";
import { parseCommandLine, UsageError } from "../args.js";
import { EXIT_OK, type Command } from "../command.js";

const usage = `Usage: build-image save [-o FILE] [OPTIONS] IMAGE [IMAGE...]

Write local images to an archive (to stdout when there is no -o and stdout is not a terminal).

Options:
  -o, --output FILE   Where to write
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
    if (positionals.length === 0) throw new UsageError("'build-image save' needs at least one image", "see 'build-image save --help'");
    const format = values.format ?? "docker";
    if (!(format in exporters)) throw new UsageError(`--format '${format}': expected docker, oci or oci-dir`);
    if (values.output === undefined && (format === "oci-dir" || io.stdout.isTTY)) {
      throw new UsageError(format === "oci-dir" ? "--format oci-dir needs -o DIR" : "refusing to write an archive to a terminal", "give -o FILE, or redirect stdout");
    }
    const store = await openStore(values.root ?? defaultRoot(io.env));
    // Without -o the archive is made whole in the store's tmp/ first, so a failure writes nothing to stdout.
    const target = values.output ?? scratchPath(store, ".save.tar");
    try {
      await exporters[format as keyof typeof exporters](store, positionals, target);
      if (values.output === undefined) await pipeline(createReadStream(target), io.stdout, { end: false });
    } finally {
      if (values.output === undefined) await rm(target, { force: true });
      await store.close();
    }
    return EXIT_OK;
  },
};

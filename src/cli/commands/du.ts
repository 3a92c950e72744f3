import { du } from "../../cache/index.js";
import { defaultRoot, openStore } from "../../layers/index.js";
import { parseCommandLine, UsageError } from "../args.js";
import { EXIT_OK, type Command } from "../command.js";
import { humanSize } from "./images.js";

const usage = `Usage: build-image du [OPTIONS]

Show what the store holds: blobs, snapshots, build cache records and RUN --mount=type=cache directories.

Options:
      --format FORMAT   table (default) | json
  -v, --verbose         Also list each cache mount
      --root DIR        Store root (env BUILD_IMAGE_ROOT)
`;

export const duCommand: Command = {
  name: "du",
  summary: "Show the store's disk usage",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandLine(
      argv,
      { format: { type: "string" }, verbose: { type: "boolean", short: "v" }, root: { type: "string" } },
      "du",
    ) as { values: { format?: string; verbose?: boolean; root?: string }; positionals: string[] };
    if (positionals.length > 0) throw new UsageError(`du takes no arguments, got '${positionals[0]}'`, "see 'build-image du --help'");
    const format = values.format ?? "table";
    if (format !== "table" && format !== "json") throw new UsageError(`--format '${format}': expected table or json`);
    const store = await openStore(values.root ?? defaultRoot(io.env));
    try {
      const usage = await du(store);
      if (format === "json") {
        io.stdout.write(`${JSON.stringify(usage)}\n`);
        return EXIT_OK;
      }
      const rows = [
        ["TYPE", "COUNT", "SIZE", "RECLAIMABLE"],
        ["Images", String(usage.images.count), "", ""],
        ["Blobs", String(usage.blobs.count), humanSize(usage.blobs.bytes), ""],
        ["Snapshots", String(usage.snapshots.count), humanSize(usage.snapshots.bytes), ""],
        ["Build cache", String(usage.cacheRecords.count), humanSize(usage.cacheRecords.bytes), humanSize(usage.cacheRecords.reclaimableBytes)],
        ["Cache mounts", String(usage.cacheMounts.count), humanSize(usage.cacheMounts.bytes), humanSize(usage.cacheMounts.bytes)],
      ];
      if (values.verbose) for (const m of usage.cacheMounts.mounts) rows.push([`  ${m.name}`, "", humanSize(m.bytes), ""]);
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      io.stdout.write(rows.map((r) => r.map((c, i) => c.padEnd(widths[i]! + 3)).join("").trimEnd()).join("\n") + "\n");
      io.stdout.write(`Total: ${humanSize(usage.totalBytes)} in ${usage.root}\n`);
      return EXIT_OK;
    } finally {
      await store.close();
    }
  },
};

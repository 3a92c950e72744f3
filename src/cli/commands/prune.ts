import { prune } from "../../cache/index.js";
import { defaultRoot, openStore } from "../../layers/index.js";
import { parseCommandLine, UsageError } from "../args.js";
import { EXIT_OK, type Command } from "../command.js";
import { humanSize } from "./images.js";

const usage = `Usage: build-image prune [OPTIONS]

Remove build cache: cache records (oldest first), then the blobs and snapshots nothing references any more.
Records whose result is part of a local image stay unless --all.

Options:
  -a, --all                  Remove all build cache, and the RUN --mount=type=cache directories no build is using
      --keep-storage SIZE    Keep this much cache, removing the oldest records first (e.g. 10GB, 512MB)
      --filter until=DURATION  Only cache last used longer ago than this (e.g. 24h, 30m, 1h30m)
  -f, --force                Do not ask (build-image never asks; accepted as docker does)
      --format FORMAT        text (default) | json
      --root DIR             Store root (env BUILD_IMAGE_ROOT)
`;

const SIZE_UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** `10GB`, `512m`, `1.5GiB`, `1000`: bytes, with binary multiples as `docker builder prune --keep-storage` takes them. */
export function parseByteSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i.exec(text.trim());
  if (!match) return undefined;
  return Math.floor(Number(match[1]) * SIZE_UNITS[match[2]!.toLowerCase()]!);
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Go durations as docker's `until` filter takes them (`24h`, `1h30m`, `90s`, `500ms`), plus `d` for days: ms. */
export function parseDuration(text: string): number | undefined {
  const parts = [...text.trim().matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text.trim()) return undefined;
  return parts.reduce((ms, p) => ms + Number(p[1]) * DURATION_UNITS[p[2]!]!, 0);
}

export const pruneCommand: Command = {
  name: "prune",
  summary: "Remove build cache",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandLine(
      argv,
      {
        all: { type: "boolean", short: "a" },
        "keep-storage": { type: "string" },
        filter: { type: "string", multiple: true },
        force: { type: "boolean", short: "f" },
        format: { type: "string" },
        root: { type: "string" },
      },
      "prune",
    ) as { values: { all?: boolean; "keep-storage"?: string; filter?: string[]; format?: string; root?: string }; positionals: string[] };
    if (positionals.length > 0) throw new UsageError(`prune takes no arguments, got '${positionals[0]}'`, "see 'build-image prune --help'");
    const format = values.format ?? "text";
    if (format !== "text" && format !== "json") throw new UsageError(`--format '${format}': expected text or json`);
    let keepStorage: number | undefined;
    if (values["keep-storage"] !== undefined) {
      keepStorage = parseByteSize(values["keep-storage"]);
      if (keepStorage === undefined) throw new UsageError(`--keep-storage '${values["keep-storage"]}' is not a size`, "e.g. --keep-storage 10GB or 512MB");
    }
    let until: number | undefined;
    for (const filter of values.filter ?? []) {
      const [name, value = ""] = filter.split(/=(.*)/s);
      if (name !== "until") throw new UsageError(`--filter '${filter}': only until=DURATION is supported`, "e.g. --filter until=24h");
      until = parseDuration(value);
      if (until === undefined) throw new UsageError(`--filter '${filter}': '${value}' is not a duration`, "e.g. until=24h, until=30m, until=1h30m");
    }

    const store = await openStore(values.root ?? defaultRoot(io.env));
    try {
      const result = await prune(store, { all: values.all ?? false, ...(keepStorage === undefined ? {} : { keepStorage }), ...(until === undefined ? {} : { until }) });
      if (format === "json") {
        io.stdout.write(`${JSON.stringify(result)}\n`);
        return EXIT_OK;
      }
      const counts = [`${result.records.length} cache records`, `${result.blobs.length} blobs`, `${result.snapshots.length} snapshots`];
      if (values.all) counts.push(`${result.mounts.length} cache mounts`);
      io.stdout.write(`Deleted ${counts.join(", ")}\n`);
      if (result.mountsInUse.length > 0) io.stdout.write(`Kept ${result.mountsInUse.length} cache mounts in use by a running build\n`);
      io.stdout.write(`Total reclaimed space: ${humanSize(result.freedBytes)}\n`);
      return EXIT_OK;
    } finally {
      await store.close();
    }
  },
};

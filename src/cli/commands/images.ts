import { defaultRoot, listImages, parseImageName, shortRepository, type LocalImage, openStore } from "../../layers/index.js";
import { parseCommandLine, UsageError } from "../args.js";
import { EXIT_OK, type Command } from "../command.js";

const usage = `Usage: build-image images [OPTIONS] [REPOSITORY[:TAG]]

List the images in the local store.

Options:
      --format FORMAT   table (default) | json (one JSON object per line)
  -q, --quiet           Print only image IDs
      --no-trunc        Print full image IDs
      --root DIR        Store root (env BUILD_IMAGE_ROOT)
`;

/** Docker's sizes: SI units, three significant digits. */
export function humanSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toPrecision(3).replace(/\.?0+$/, "")}${units[unit]}`;
}

/** "3 minutes ago", as `docker images` shows CREATED. */
export function timeAgo(iso: string | undefined, now = Date.now()): string {
  if (!iso) return "N/A";
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (!Number.isFinite(seconds)) return "N/A";
  const steps: [number, string][] = [[60 * 60 * 24 * 365, "year"], [60 * 60 * 24 * 30, "month"], [60 * 60 * 24 * 7, "week"], [60 * 60 * 24, "day"], [60 * 60, "hour"], [60, "minute"]];
  for (const [size, name] of steps) {
    const n = Math.floor(seconds / size);
    if (n >= 1) return `${n} ${name}${n === 1 ? "" : "s"} ago`;
  }
  return "Less than a minute ago";
}

function imageId(image: LocalImage, full: boolean): string {
  const digest = image.configDigest ?? image.manifestDigest;
  return full ? digest : digest.slice(7, 19);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 3))).join("").trimEnd()).join("\n") + "\n";
}

export const imagesCommand: Command = {
  name: "images",
  summary: "List local images",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandLine(
      argv,
      { format: { type: "string" }, quiet: { type: "boolean", short: "q" }, "no-trunc": { type: "boolean" }, root: { type: "string" } },
      "images",
    ) as { values: { format?: string; quiet?: boolean; "no-trunc"?: boolean; root?: string }; positionals: string[] };
    const format = values.format ?? "table";
    if (format !== "table" && format !== "json") {
      throw new UsageError(`--format '${format}': expected table or json`);
    }
    const store = await openStore(values.root ?? defaultRoot(io.env));
    let images: LocalImage[];
    try {
      images = await listImages(store);
    } finally {
      await store.close();
    }
    const filter = positionals[0];
    if (filter !== undefined) {
      const ref = parseImageName(filter);
      const repo = shortRepository(ref);
      const tag = filter.slice(filter.lastIndexOf("/") + 1).includes(":") ? ref.tag : undefined;
      images = images.filter((i) => i.repository === repo && (tag === undefined || i.tag === tag));
    }
    if (values.quiet) {
      io.stdout.write([...new Set(images.map((i) => imageId(i, values["no-trunc"] === true)))].map((id) => `${id}\n`).join(""));
    } else if (format === "json") {
      io.stdout.write(images.map((i) => `${JSON.stringify(i)}\n`).join(""));
    } else {
      const rows = [["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]];
      for (const i of images) {
        rows.push([i.repository ?? "<none>", i.tag ?? "<none>", imageId(i, values["no-trunc"] === true), timeAgo(i.created), i.size === undefined ? "N/A" : humanSize(i.size)]);
      }
      io.stdout.write(table(rows));
    }
    return EXIT_OK;
  },
};

// Parse speed: build-image's parser against dockerfile-ast on the same ≥1 MB corpus, in one run.
// The corpus is every Dockerfile in fixtures/dockerfiles/, repeated; it is parsed two ways:
// as many separate files (the usual case) and as one big file (a stress case for line handling).
// Usage: node --import tsx bench/parse.ts [--mb N] [--rounds N]
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { DockerfileParser } from "dockerfile-ast";
import { parseDockerfile } from "../src/parser/index.js";

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const targetBytes = option("--mb", 1) * 1024 * 1024;
const rounds = option("--rounds", 10);

const dir = new URL("../fixtures/dockerfiles/", import.meta.url).pathname;
const fixtures = readdirSync(dir)
  .sort()
  .flatMap((entry) => {
    const path = join(dir, entry);
    if (entry.endsWith(".Dockerfile")) return [readFileSync(path, "utf8")];
    if (statSync(path).isDirectory()) return [readFileSync(join(path, "Dockerfile"), "utf8")];
    return [];
  });

const files: string[] = [];
let bytes = 0;
while (bytes < targetBytes) {
  for (const text of fixtures) {
    files.push(text);
    bytes += Buffer.byteLength(text);
  }
}
// One big file: the fixtures joined; directives and BOMs only count at the top, so drop them.
const big = files.map((text) => text.replace(/^\uFEFF/, "").replace(/^# *(syntax|escape|check)=.*$/gim, "# directive removed")).join("\n");
const bigBytes = Buffer.byteLength(big);

type Parser = { name: string; run: (text: string) => number };
const parsers: Parser[] = [
  {
    name: "build-image parseDockerfile",
    run: (text) => parseDockerfile(text).instructions.length,
  },
  {
    name: "dockerfile-ast parse",
    run: (text) => DockerfileParser.parse(text).getInstructions().length,
  },
  {
    // dockerfile-ast splits arguments lazily; ask for them so both do comparable work.
    name: "dockerfile-ast parse + args + flags",
    run: (text) => {
      let n = 0;
      for (const instruction of DockerfileParser.parse(text).getInstructions()) {
        n += instruction.getArguments().length;
        const withFlags = instruction as unknown as { getFlags?: () => unknown[] };
        n += withFlags.getFlags?.().length ?? 0;
      }
      return n;
    },
  },
];

function measure(parser: Parser, inputs: string[], totalBytes: number): number {
  // Warm up for a second so both parsers are measured with optimized code, not while V8 tiers up.
  const warmUntil = Date.now() + 1000;
  while (Date.now() < warmUntil) for (const text of inputs) parser.run(text);
  let best = Infinity;
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint();
    let sink = 0;
    for (const text of inputs) sink += parser.run(text);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (sink < 0) throw new Error("unreachable");
    best = Math.min(best, seconds);
  }
  return totalBytes / (1024 * 1024) / best;
}

const mb = (n: number) => (n / (1024 * 1024)).toFixed(2);
console.log(`corpus: ${fixtures.length} fixtures → ${files.length} files, ${mb(bytes)} MB; one big file ${mb(bigBytes)} MB; best of ${rounds} rounds`);
for (const [label, inputs, size] of [
  ["separate files", files, bytes],
  ["one big file", [big], bigBytes],
] as const) {
  const speeds = parsers.map((p) => ({ name: p.name, mbps: measure(p, [...inputs], size) }));
  const ours = speeds[0]!.mbps;
  console.log(`\n${label}:`);
  for (const s of speeds) {
    const ratio = s === speeds[0] ? "" : `   (build-image is ${(ours / s.mbps).toFixed(2)}x)`;
    console.log(`  ${s.name.padEnd(38)} ${s.mbps.toFixed(1).padStart(7)} MB/s${ratio}`);
  }
}

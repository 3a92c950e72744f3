// bench/build: cold, warm and one-file-changed build times for four projects, for build-image (in-process
// library call, and the CLI) and, where installed, buildah — in the same run. Medians of RUNS runs.
//   node --import tsx bench/build.ts            (RUNS=3 by default; BENCH_SKIP_BIG=1 skips the 150 MB context)
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "../src/build/index.js";
import { importRootfs, openStore } from "../src/layers/index.js";
import { makeBusyboxRoot } from "../test/helpers/busybox.js";

const RUNS = Number(process.env.RUNS ?? 3);
const work = await mkdtemp(join(tmpdir(), "bi-bench-build-"));
const cli = join(process.cwd(), "bin/build-image.js");

interface Project {
  name: string;
  dir: string;
  /** A file whose change is the "one file changed" case. */
  touch: string;
}

async function project(name: string, dockerfile: string, files: Record<string, string | Buffer>, touch: string): Promise<Project> {
  const dir = join(work, "projects", name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "Dockerfile"), dockerfile);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return { name, dir, touch };
}

async function makeProjects(): Promise<Project[]> {
  const small = await project(
    "small-8-steps",
    "FROM busybox:latest\nWORKDIR /app\nCOPY package.txt ./\nRUN cat package.txt | wc -l > /lines\nCOPY src/ ./src/\nRUN find src -type f | sort > /listing\nRUN echo built > /done\nCMD [\"cat\", \"/done\"]\n",
    { "package.txt": "a\nb\nc\n", "src/main.txt": "main\n", "src/util.txt": "util\n" },
    "src/main.txt",
  );
  const parallel = await project(
    "two-stages-parallel",
    "FROM busybox:latest AS a\nRUN dd if=/dev/zero bs=1M count=64 2>/dev/null | sha256sum > /a\nFROM busybox:latest AS b\nRUN dd if=/dev/zero bs=1M count=64 2>/dev/null | md5sum > /b\nFROM busybox:latest\nCOPY input.txt /\nCOPY --from=a /a /out/\nCOPY --from=b /b /out/\n",
    { "input.txt": "input\n" },
    "input.txt",
  );
  const bigFiles: Record<string, string | Buffer> = {};
  if (!process.env.BENCH_SKIP_BIG) {
    for (let i = 0; i < 10_000; i++) bigFiles[`files/${String(i % 100).padStart(2, "0")}/f${i}.txt`] = `file ${i}\n${"x".repeat(i % 500)}\n`;
    for (let i = 0; i < 5; i++) bigFiles[`blobs/random-${i}.bin`] = randomBytes(15 * 1024 * 1024);
    for (let i = 0; i < 5; i++) bigFiles[`blobs/text-${i}.txt`] = Buffer.from("compressible line of text for the benchmark\n".repeat(350_000));
  }
  const big = process.env.BENCH_SKIP_BIG ? undefined : await project("big-context", "FROM busybox:latest\nCOPY . /app\nRUN du -s /app > /size\n", bigFiles, "files/42/f42.txt");
  const steps = ["FROM busybox:latest"];
  const files40: Record<string, string> = {};
  for (let i = 0; i < 13; i++) {
    steps.push(`ENV STEP${i}=${i}`, `COPY f${i}.txt /f/`, `RUN echo ${i} >> /log`);
    files40[`f${i}.txt`] = `file ${i}\n`;
  }
  const forty = await project("40-steps", `${steps.join("\n")}\n`, files40, "f6.txt");
  return [small, parallel, ...(big ? [big] : []), forty];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timed(fn: () => Promise<unknown> | unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

async function baseRoot(): Promise<string> {
  const root = join(work, "base-root");
  const rootfs = join(work, "busybox-rootfs");
  await makeBusyboxRoot(rootfs);
  const store = await openStore(root);
  await importRootfs(store, rootfs, "busybox:latest", { sourceDateEpoch: 0, message: "busybox-static" });
  await store.close();
  return root;
}

type Builder = { name: string; prepare(): Promise<string>; build(root: string, p: Project): Promise<unknown> };

async function measure(builder: Builder, p: Project) {
  const cold: number[] = [];
  const warm: number[] = [];
  const changed: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const root = await builder.prepare();
    cold.push(await timed(() => builder.build(root, p)));
    warm.push(await timed(() => builder.build(root, p)));
    await writeFile(join(p.dir, p.touch), `changed ${i} ${Date.now()}\n`);
    changed.push(await timed(() => builder.build(root, p)));
    await rm(root, { recursive: true, force: true });
  }
  return { cold: median(cold), warm: median(warm), changed: median(changed) };
}

const projects = await makeProjects();
const base = await baseRoot();
const freshCopy = async () => {
  const root = await mkdtemp(join(work, "root-"));
  await cp(base, root, { recursive: true });
  return root;
};
const builders: Builder[] = [
  { name: "build-image (library)", prepare: freshCopy, build: (root, p) => build({ context: p.dir, root, tags: [`bench/${p.name}`] }) },
  {
    name: "build-image (CLI)",
    prepare: freshCopy,
    build: async (root, p) => {
      const r = spawnSync(process.execPath, [cli, "--root", root, "-q", "-t", `bench/${p.name}`, p.dir], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(r.stderr);
    },
  },
];
if (spawnSync("which", ["buildah"]).status === 0) {
  const buildahBase = join(work, "buildah-base");
  const storageArgs = (dir: string) => ["--root", join(dir, "root"), "--runroot", join(dir, "runroot"), "--storage-driver", "overlay"];
  const ctr = execFileSync("buildah", [...storageArgs(buildahBase), "from", "scratch"], { encoding: "utf8" }).trim();
  const mnt = execFileSync("buildah", [...storageArgs(buildahBase), "mount", ctr], { encoding: "utf8" }).trim();
  execFileSync("cp", ["-a", `${join(work, "busybox-rootfs")}/.`, mnt]);
  execFileSync("buildah", [...storageArgs(buildahBase), "umount", ctr]);
  execFileSync("buildah", [...storageArgs(buildahBase), "commit", "-q", ctr, "busybox:latest"]);
  builders.push({
    name: "buildah bud",
    prepare: async () => {
      const dir = await mkdtemp(join(work, "buildah-"));
      execFileSync("cp", ["-a", `${buildahBase}/.`, dir]);
      return dir;
    },
    build: async (dir, p) => {
      const r = spawnSync("buildah", [...storageArgs(dir), "bud", "--runtime", "/usr/sbin/runc", "--network", "none", "--layers", "-q", "-t", `bench/${p.name}`, p.dir], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(r.stderr);
    },
  });
}

console.log(`bench/build: medians of ${RUNS} runs, seconds (${new Date().toISOString()}, ${process.version})`);
const rows: string[][] = [];
const results = new Map<string, Map<string, { cold: number; warm: number; changed: number }>>();
for (const p of projects) {
  for (const b of builders) {
    const r = await measure(b, p);
    if (!results.has(p.name)) results.set(p.name, new Map());
    results.get(p.name)!.set(b.name, r);
    rows.push([p.name, b.name, r.cold.toFixed(3), r.warm.toFixed(3), r.changed.toFixed(3)]);
    console.log(rows.at(-1)!.join("\t"));
  }
}
console.log("\nproject\tbuilder\tcold\twarm\tone file changed");
for (const row of rows) console.log(row.join("\t"));
const peer = builders.find((b) => b.name === "buildah bud");
if (peer) {
  console.log("\nratio build-image (library) / buildah (lower is better)");
  for (const [name, byBuilder] of results) {
    const ours = byBuilder.get("build-image (library)")!;
    const theirs = byBuilder.get("buildah bud")!;
    console.log(`${name}\tcold ${(ours.cold / theirs.cold).toFixed(2)}\twarm ${(ours.warm / theirs.warm).toFixed(2)}\tchanged ${(ours.changed / theirs.changed).toFixed(2)}`);
  }
}
await rm(work, { recursive: true, force: true });

// Push and pull of a 3-layer, ~300 MB image (each layer part random, part compressible) to and from a
// local docker-registry, beside `skopeo copy` of the same image in the same run. Prints MB/s and ratios.
// Run: node --import tsx bench/registry.ts [rounds=3]
import { execFile, execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { startRegistry, type TestRegistry } from "../test/helpers/registry.js";
import { createRegistryClient, OCI_MANIFEST } from "../src/registry/index.js";

const run = promisify(execFile);
const MB = 1024 * 1024;
const rounds = Number(process.argv[2] ?? 3);
const cacheDir = join(tmpdir(), "build-image-bench-registry-image-v1");

interface Blob { digest: string; size: number; mediaType: string; path: string }
interface BenchImage { layout: string; manifest: Buffer; blobs: Blob[]; total: number }

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return `sha256:${hash.digest("hex")}`;
}

function compressible(bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = `2026-12-01T19:${String(i % 60).padStart(2, "0")}:00Z INFO request ${i} served /api/items/${i % 997} in ${i % 13} ms\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join("")).subarray(0, bytes);
}

async function blobInto(layout: string, path: string, mediaType: string): Promise<Blob> {
  const digest = await sha256File(path);
  const target = join(layout, "blobs/sha256", digest.slice(7));
  await rename(path, target);
  return { digest, size: (await readFile(target)).length, mediaType, path: target };
}

/** Made once and kept in the temp dir: ~95 MB random + 60 MB text per layer, gzipped by pigz. */
async function benchImage(): Promise<BenchImage> {
  const layout = join(cacheDir, "layout");
  if (!existsSync(join(layout, "index.json"))) {
    await rm(cacheDir, { recursive: true, force: true });
    await mkdir(join(layout, "blobs/sha256"), { recursive: true });
    const layers: Blob[] = [];
    const diffIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const root = join(cacheDir, `root${i}`);
      await mkdir(join(root, "data"), { recursive: true });
      await writeFile(join(root, "data/random.bin"), randomBytes(95 * MB));
      await writeFile(join(root, "data/log.txt"), compressible(60 * MB));
      const tar = join(cacheDir, `layer${i}.tar`);
      execFileSync("tar", ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "-C", root, "-cf", tar, "."]);
      diffIds.push(await sha256File(tar));
      execFileSync("sh", ["-c", `pigz -n -6 < '${tar}' > '${tar}.gz'`]);
      layers.push(await blobInto(layout, `${tar}.gz`, "application/vnd.oci.image.layer.v1.tar+gzip"));
      await rm(tar);
      await rm(root, { recursive: true });
    }
    const configPath = join(cacheDir, "config.json");
    await writeFile(configPath, JSON.stringify({ architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: diffIds } }));
    const config = await blobInto(layout, configPath, "application/vnd.oci.image.config.v1+json");
    const descriptor = (b: Blob) => ({ mediaType: b.mediaType, digest: b.digest, size: b.size });
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptor(config), layers: layers.map(descriptor) }));
    const manifestPath = join(cacheDir, "manifest.json");
    await writeFile(manifestPath, manifest);
    const m = await blobInto(layout, manifestPath, OCI_MANIFEST);
    await writeFile(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    await writeFile(join(layout, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ ...descriptor(m), annotations: { "org.opencontainers.image.ref.name": "bench" } }] }));
  }
  const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as { manifests: { digest: string }[] };
  const manifest = await readFile(join(layout, "blobs/sha256", index.manifests[0]!.digest.slice(7)));
  const parsed = JSON.parse(manifest.toString()) as { config: Blob; layers: Blob[] };
  const blobs = [parsed.config, ...parsed.layers].map((b) => ({ ...b, path: join(layout, "blobs/sha256", b.digest.slice(7)) }));
  return { layout, manifest, blobs, total: blobs.reduce((n, b) => n + b.size, 0) };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function ourPush(image: BenchImage, registry: TestRegistry): Promise<void> {
  const client = createRegistryClient({ env: {} });
  try {
    await client.pushImage(`${registry.host}/bench/ours:1`, {
      manifest: { bytes: image.manifest, mediaType: OCI_MANIFEST },
      blobs: image.blobs.map((b) => ({ digest: b.digest, size: b.size, open: () => createReadStream(b.path, { highWaterMark: 1 * MB }) })),
    });
  } finally {
    await client.close();
  }
}

async function ourPull(registry: TestRegistry, ref: string, out: string): Promise<void> {
  await mkdir(out, { recursive: true });
  const client = createRegistryClient({ env: {} });
  try {
    const { manifest } = await client.getManifest(`${registry.host}/${ref}`);
    const m = manifest as unknown as { config: Blob; layers: Blob[] };
    await Promise.all([m.config, ...m.layers].map(async (b) => {
      const target = join(out, b.digest.slice(7));
      await pipeline(client.fetchBlob(`${registry.host}/${ref}`, b.digest, { size: b.size }), createWriteStream(`${target}.tmp`));
      await rename(`${target}.tmp`, target);
    }));
  } finally {
    await client.close();
  }
}

const skopeo = (...args: string[]) => run("skopeo", args, { maxBuffer: 16 * MB });

const image = await benchImage();
const mb = image.total / MB;
console.log(`image: 3 layers + config, ${mb.toFixed(1)} MB compressed (${image.blobs.slice(1).map((b) => (b.size / MB).toFixed(1)).join(" + ")} MB layers)`);
const work = await mkdtemp(join(tmpdir(), "build-image-bench-registry-"));
const results: Record<string, number[]> = { "push ours": [], "push skopeo": [], "pull ours": [], "pull skopeo": [] };
try {
  for (let round = 1; round <= rounds; round++) {
    // Fresh registries so that no push finds blobs already there.
    const a = await startRegistry();
    const b = await startRegistry();
    try {
      results["push ours"]!.push(await timed(() => ourPush(image, a)));
      results["push skopeo"]!.push(await timed(() => skopeo("copy", "--quiet", "--dest-tls-verify=false", `oci:${image.layout}:bench`, `docker://${b.host}/bench/skopeo:1`)));
      results["pull ours"]!.push(await timed(() => ourPull(a, "bench/ours:1", join(work, `ours-${round}`))));
      results["pull skopeo"]!.push(await timed(() => skopeo("copy", "--quiet", "--src-tls-verify=false", `docker://${a.host}/bench/ours:1`, `oci:${join(work, `skopeo-${round}`)}:bench`)));
      await rm(join(work, `ours-${round}`), { recursive: true, force: true });
      await rm(join(work, `skopeo-${round}`), { recursive: true, force: true });
    } finally {
      await a.stop();
      await b.stop();
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

// The machine is shared, so runs vary: the median is the figure to compare, the best shows the ceiling.
const best = (xs: number[]) => Math.min(...xs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`\n${"".padEnd(12)} ${"runs (s)".padEnd(30)} median s  MB/s   best MB/s`);
for (const [name, times] of Object.entries(results)) {
  console.log(`${name.padEnd(12)} ${times.map((t) => t.toFixed(2)).join(", ").padEnd(30)} ${median(times).toFixed(2).padStart(8)} ${(mb / median(times)).toFixed(1).padStart(6)} ${(mb / best(times)).toFixed(1).padStart(9)}`);
}
for (const op of ["push", "pull"]) {
  const ours = median(results[`${op} ours`]!);
  const theirs = median(results[`${op} skopeo`]!);
  console.log(`${op}: build-image ${(mb / ours).toFixed(1)} MB/s vs skopeo ${(mb / theirs).toFixed(1)} MB/s (medians) → build-image/skopeo speed ratio ${(theirs / ours).toFixed(2)}`);
}

// compressLayer: parallel gzip members that every gunzip reads as one stream, random chunks stored,
// text deflated, and the digests it reports are the bytes' own.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { PassThrough, Readable } from "node:stream";
import { gunzipSync } from "node:zlib";
import { compressLayer } from "../../src/layers/compress.js";

const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

async function compress(input: Buffer, pieces = 7) {
  const sink = new PassThrough();
  const out: Buffer[] = [];
  sink.on("data", (c: Buffer) => out.push(c));
  const step = Math.ceil(input.length / pieces) || 1;
  const parts = Array.from({ length: Math.ceil(input.length / step) }, (_, i) => input.subarray(i * step, (i + 1) * step));
  const result = await compressLayer(Readable.from(parts), sink);
  return { result, gz: Buffer.concat(out) };
}

function text(size: number): Buffer {
  const words = ["alpha", "beta", "gamma", "delta", "layer", "tar", "gzip", "snapshot"];
  let s = "";
  let i = 0;
  while (s.length < size) s += words[(i = (i * 7 + 3) % 97) % words.length] + (i % 5 ? " " : "\n");
  return Buffer.from(s.slice(0, size));
}

test("members decode as one stream with gzip, zlib and the digests match the bytes", async () => {
  const input = Buffer.concat([text(2_500_000), randomBytes(1_500_000), text(300_000)]);
  const { result, gz } = await compress(input);
  assert.is(result.diffId, sha(input));
  assert.is(result.digest, sha(gz));
  assert.is(result.size, gz.length);
  assert.is(result.tarSize, input.length);
  assert.ok(gunzipSync(gz).equals(input));
  assert.ok(execFileSync("gzip", ["-dc"], { input: gz, maxBuffer: 1 << 26 }).equals(input));
  assert.ok(execFileSync("pigz", ["-dc"], { input: gz, maxBuffer: 1 << 26 }).equals(input));
  // 5 MiB of input → 5 members, each with its own header.
  let members = 0;
  for (let i = gz.indexOf(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])); i >= 0; i = gz.indexOf(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]), i + 1)) members++;
  assert.ok(members >= 5, `members: ${members}`);
});

test("random data is stored, text is deflated", async () => {
  const random = randomBytes(3 << 20);
  const r = await compress(random);
  assert.ok(r.gz.length > random.length && r.gz.length < random.length * 1.001, `random: ${r.gz.length}`);
  const t = text(3 << 20);
  const c = await compress(t);
  assert.ok(c.gz.length < t.length / 4, `text: ${c.gz.length}`);
});

test("the output depends only on the bytes, not on how they arrive", async () => {
  const input = Buffer.concat([text(1_200_000), randomBytes(900_000)]);
  const a = await compress(input, 1);
  const b = await compress(input, 333);
  assert.ok(a.gz.equals(b.gz));
});

test("empty input is a valid empty gzip", async () => {
  const { result, gz } = await compress(Buffer.alloc(0), 1);
  assert.is(gunzipSync(gz).length, 0);
  assert.is(result.diffId, sha(Buffer.alloc(0)));
});

test("a level outside 1–9 is COMPRESSION_LEVEL_INVALID; level 1 is bigger than 6 but still valid gzip", async () => {
  const err = await compressLayer(Readable.from([Buffer.from("x")]), new PassThrough(), { level: 12 }).catch((e: unknown) => e);
  assert.is((err as { code?: string }).code, "COMPRESSION_LEVEL_INVALID");
  const input = text(2 << 20);
  const sink = new PassThrough();
  const out: Buffer[] = [];
  sink.on("data", (c: Buffer) => out.push(c));
  await compressLayer(Readable.from([input]), sink, { level: 1 });
  const fast = Buffer.concat(out);
  assert.ok(gunzipSync(fast).equals(input));
  assert.ok(fast.length > (await compress(input)).gz.length);
});

test.run();

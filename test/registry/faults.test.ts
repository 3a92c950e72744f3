// What the client does when the registry dies, lies, cuts downloads or is busy.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { startRegistryProxy, type Fault } from "../helpers/registry-proxy.js";
import { makeTestImage, type TestImage } from "../helpers/test-image.js";
import { createRegistryClient, type RegistryEvent } from "../../src/registry/index.js";
import { busyboxImage, clientOptions, collect, rejects, sha256, storeBlob, tempDir } from "./fixture.js";

const it = suite<{ registry: TestRegistry; image: TestImage; big: TestImage; dir: string; remove: () => Promise<void> }>("faults");

it.before(async (context) => {
  const dir = await tempDir();
  context.dir = dir.path;
  context.remove = dir.remove;
  context.image = await busyboxImage();
  // A second image whose last layer is large enough to be cut mid-upload (random, so gzip keeps it big).
  context.big = await makeTestImage(dir.path, { layers: [{ "etc/small": "small\n" }, { "data/big.bin": randomBytes(12 * 1024 * 1024) }] });
  context.registry = await startRegistry();
  const client = createRegistryClient(clientOptions(context.registry));
  await client.pushImage(`${context.registry.host}/faults/base:1`, { manifest: context.image.manifest, blobs: context.image.blobs });
  await client.close();
});
it.after(async ({ registry, remove }) => {
  await registry?.stop();
  await remove?.();
});

it("registry killed mid-push: a clear error; restarted: the second push skips what arrived and completes", async ({ registry, big }) => {
  const bigLayer = big.layers.at(-1)!;
  const events: RegistryEvent[] = [];
  let killed: Promise<void> | undefined;
  const client = createRegistryClient({
    ...clientOptions(registry),
    chunkSize: 1024 * 1024,
    onEvent: (e) => {
      events.push(e);
      if (e.type === "blob-progress" && e.digest === bigLayer.digest && !killed) killed = registry.kill();
    },
  });
  try {
    const ref = `${registry.host}/faults/big:1`;
    const err = await rejects(client.pushImage(ref, { manifest: big.manifest, blobs: big.blobs, concurrency: 1 }));
    await killed;
    assert.is(err.code, "REGISTRY_UNREACHABLE");
    assert.match(err.message, registry.host);
    assert.match(err.message, "faults/big");
    assert.match(err.hint!, "running");
    assert.ok(events.some((e) => e.type === "retry"), "it retried before giving up");
    const pushedBefore = events.flatMap((e) => (e.type === "blob" && e.action === "pushed" ? [e.digest] : []));
    assert.equal(pushedBefore, big.blobs.slice(0, -1).map((b) => b.digest), "all but the big layer arrived");

    await registry.restart();
    const second = await client.pushImage(ref, { manifest: big.manifest, blobs: big.blobs, concurrency: 1 });
    assert.equal(big.blobs.map((b) => second.blobs[b.digest]), [...big.blobs.slice(0, -1).map(() => "exists"), "pushed"]);
    const pulled = await collect(client.fetchBlob(ref, bigLayer.digest, { size: bigLayer.size }));
    assert.is(sha256(pulled), bigLayer.digest);
    assert.is((await client.getManifest(ref)).digest, big.manifest.digest);
  } finally {
    await client.close();
  }
});

async function throughProxy(registry: TestRegistry, decide: (req: { method: string; path: string }) => Fault, events?: RegistryEvent[]) {
  const proxy = await startRegistryProxy(registry.host, decide);
  const client = createRegistryClient({ ...clientOptions(registry, events), credentials: {} });
  return { proxy, client, done: async () => { await client.close(); await proxy.stop(); } };
}

it("a blob served with wrong bytes is a digest error, and nothing is stored", async ({ registry, image, dir }) => {
  const layer = image.layers[0]!;
  const { proxy, client, done } = await throughProxy(registry, (req) => (req.path.includes(layer.digest) ? { kind: "corrupt" } : { kind: "pass" }));
  try {
    const target = join(dir, "stored-layer");
    const err = await rejects(storeBlob(client.fetchBlob(`${proxy.host}/faults/base`, layer.digest, { size: layer.size }), target));
    assert.is(err.code, "REGISTRY_DIGEST_MISMATCH");
    assert.match(err.message, layer.digest);
    assert.match(err.message, proxy.host);
    assert.not.ok(existsSync(target), "no blob kept");
    assert.equal(readdirSync(dir).filter((f) => f.startsWith("stored-layer")), []);
  } finally {
    await done();
  }
});

it("a manifest served with wrong bytes is a digest error when pulled by digest", async ({ registry, image }) => {
  const { proxy, client, done } = await throughProxy(registry, (req) => (req.path.includes("/manifests/") ? { kind: "corrupt" } : { kind: "pass" }));
  try {
    const err = await rejects(client.getManifest(`${proxy.host}/faults/base@${image.manifest.digest}`));
    assert.is(err.code, "REGISTRY_DIGEST_MISMATCH");
    const byTag = await rejects(client.getManifest(`${proxy.host}/faults/base:1`));
    assert.is(byTag.code, "REGISTRY_DIGEST_MISMATCH", "Docker-Content-Digest is checked too");
  } finally {
    await done();
  }
});

it("a download cut off midway resumes with Range, or re-reads when ranges are ignored", async ({ registry, image }) => {
  const layer = image.layers[0]!;
  for (const second of ["pass", "no-range"] as const) {
    let gets = 0;
    const events: RegistryEvent[] = [];
    const { proxy, client, done } = await throughProxy(registry, (req) => {
      if (req.method !== "GET" || !req.path.includes(`/blobs/${layer.digest}`)) return { kind: "pass" };
      return ++gets === 1 ? { kind: "cut" } : { kind: second };
    }, events);
    try {
      const bytes = await collect(client.fetchBlob(`${proxy.host}/faults/base`, layer.digest, { size: layer.size }));
      assert.is(sha256(bytes), layer.digest, second);
      const blobGets = proxy.requests.filter((r) => r.method === "GET" && r.path.includes("/blobs/"));
      assert.is(blobGets.length, 2);
      assert.match(String(blobGets[1]!.headers.range), /^bytes=\d+-$/);
      assert.ok(Number(/\d+/.exec(String(blobGets[1]!.headers.range))![0]) > 0, "resumes after what arrived");
      assert.ok(events.some((e) => e.type === "retry" && /cut off/.test(e.reason)));
    } finally {
      await done();
    }
  }
});

it("retries 5xx and 429 (honouring Retry-After), then succeeds", async ({ registry, image }) => {
  let manifestGets = 0;
  const events: RegistryEvent[] = [];
  const { client, proxy, done } = await throughProxy(registry, (req) => {
    if (!req.path.includes("/manifests/")) return { kind: "pass" };
    manifestGets++;
    if (manifestGets === 1) return { kind: "status", status: 503 };
    if (manifestGets === 2) return { kind: "status", status: 429, headers: { "retry-after": "1" } };
    return { kind: "pass" };
  }, events);
  try {
    const started = Date.now();
    assert.is((await client.getManifest(`${proxy.host}/faults/base:1`)).digest, image.manifest.digest);
    const retries = events.filter((e) => e.type === "retry");
    assert.equal(retries.map((e) => e.type === "retry" && e.reason), ["HTTP 503", "HTTP 429"]);
    assert.ok(Date.now() - started >= 1000, "waited for Retry-After");
  } finally {
    await done();
  }
});

it("a registry that keeps failing, or is not there, is an error naming it", async ({ registry }) => {
  const { client, proxy, done } = await throughProxy(registry, () => ({ kind: "status", status: 500 }));
  try {
    const err = await rejects(client.getManifest(`${proxy.host}/faults/base:1`));
    assert.is(err.code, "REGISTRY_PROTOCOL");
    assert.match(err.message, "HTTP 500");
  } finally {
    await done();
  }
  const nowhere = createRegistryClient({ retry: { retries: 1, minDelayMs: 10 }, env: {} });
  try {
    const err = await rejects(nowhere.getManifest("127.0.0.1:1/nothing/here:1"));
    assert.is(err.code, "REGISTRY_UNREACHABLE");
    assert.match(err.message, "127.0.0.1:1");
    assert.match(err.message, "ECONNREFUSED");
    const unknownHost = await rejects(nowhere.getManifest("no-such-host.invalid/app:1"));
    assert.is(unknownHost.code, "REGISTRY_UNREACHABLE");
    assert.match(unknownHost.message, "no-such-host.invalid");
  } finally {
    await nowhere.close();
  }
});

it("an upload cut off midway starts that blob again and completes", async ({ registry, big }) => {
  const bigLayer = big.layers.at(-1)!;
  let patches = 0;
  const events: RegistryEvent[] = [];
  const { client, proxy, done } = await throughProxy(registry, (req) => (req.method === "PATCH" && ++patches === 3 ? { kind: "cut-request" } : { kind: "pass" }), events);
  const chunked = createRegistryClient({ ...clientOptions(registry, events), credentials: {}, chunkSize: 1024 * 1024 });
  try {
    const ref = `${proxy.host}/faults/cut:1`;
    const result = await chunked.pushImage(ref, { manifest: big.manifest, blobs: big.blobs });
    assert.is(result.blobs[bigLayer.digest], "pushed");
    assert.ok(events.some((e) => e.type === "retry" && /upload/.test(e.reason)), "the blob was started again");
    assert.is(sha256(await collect(client.fetchBlob(ref, bigLayer.digest))), bigLayer.digest);
  } finally {
    await chunked.close();
    await done();
  }
});

it("a damaged local blob is refused, whether the registry or the client notices", async ({ registry }) => {
  const events: RegistryEvent[] = [];
  const client = createRegistryClient({ ...clientOptions(registry, events), chunkSize: 64 * 1024 });
  try {
    const claimed = sha256(Buffer.from("what the store says"));
    const small = Buffer.alloc(1000, 1);
    const monolithic = await rejects(client.pushBlob(`${registry.host}/faults/damaged`, { digest: claimed, size: small.length, open: () => Readable.from([small]) }));
    assert.is(monolithic.code, "REGISTRY_DIGEST_MISMATCH");
    assert.match(monolithic.message, "do not match");
    const large = randomBytes(200 * 1024);
    const chunked = await rejects(client.pushBlob(`${registry.host}/faults/damaged`, { digest: claimed, size: large.length, open: () => Readable.from([large]) }));
    assert.is(chunked.code, "REGISTRY_DIGEST_MISMATCH");
    assert.match(chunked.message, `local blob ${claimed}`);
    const short = await rejects(client.pushBlob(`${registry.host}/faults/damaged`, { digest: sha256(large), size: large.length + 10, open: () => Readable.from([large]) }));
    assert.is(short.code, "REGISTRY_DIGEST_MISMATCH");
    assert.match(short.message, "ended before");
    assert.not.ok(events.some((e) => e.type === "retry"), "nothing retried: sending the same bytes again cannot help");
    assert.not.ok(await client.hasBlob(`${registry.host}/faults/damaged`, claimed));
  } finally {
    await client.close();
  }
});

it.run();

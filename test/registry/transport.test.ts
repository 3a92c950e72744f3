// Docker's http rule, redirects that must not carry credentials elsewhere, and cancellation.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { startConnectProxy, startRegistryProxy } from "../helpers/registry-proxy.js";
import { createRegistryClient } from "../../src/registry/index.js";
import { busyboxImage, clientOptions, collect, rejects, sha256 } from "./fixture.js";

// An address of this machine outside 127.0.0.0/8, so not "local" by Docker's rule.
const outside = execFileSync("hostname", ["-I"], { encoding: "utf8" }).split(/\s+/).find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a) && !a.startsWith("127."));

const it = suite<{ plain: TestRegistry; basic: TestRegistry }>("transport");

it.before(async (context) => {
  context.plain = await startRegistry();
  context.basic = await startRegistry({ auth: "htpasswd" });
  const image = await busyboxImage();
  for (const registry of [context.plain, context.basic]) {
    const client = createRegistryClient(clientOptions(registry));
    await client.pushImage(`${registry.host}/t/app:1`, { manifest: image.manifest, blobs: image.blobs });
    await client.close();
  }
});
it.after(async ({ plain, basic }) => {
  await plain?.stop();
  await basic?.stop();
});

it("plain http only for local registries unless listed in insecureRegistries", async () => {
  assert.ok(outside, "this machine needs an address outside 127.0.0.0/8");
  const registry = await startRegistry({ address: outside });
  const image = await busyboxImage();
  const strict = createRegistryClient({ env: {}, retry: { retries: 0 } });
  const lenient = createRegistryClient({ env: {}, retry: { retries: 0 }, insecureRegistries: [registry.host] });
  try {
    const err = await rejects(strict.pushImage(`${registry.host}/t/app:1`, { manifest: image.manifest, blobs: image.blobs }));
    assert.is(err.code, "REGISTRY_TLS");
    assert.match(err.message, registry.host);
    assert.match(err.hint!, "--insecure-registry");
    const pushed = await lenient.pushImage(`${registry.host}/t/app:1`, { manifest: image.manifest, blobs: image.blobs });
    assert.is(pushed.digest, image.manifest.digest);
  } finally {
    await strict.close();
    await lenient.close();
    await registry.stop();
  }
});

it("follows a blob redirect to another host without sending it the credentials", async ({ plain, basic }) => {
  const image = await busyboxImage();
  const layer = image.layers[0]!;
  // "storage" stands for a CDN: it serves the blob from the plain registry and records what it was sent.
  const storage = await startRegistryProxy(plain.host, () => ({ kind: "pass" }));
  const front = await startRegistryProxy(basic.host, (req) =>
    req.method === "GET" && req.path.includes("/blobs/") && req.headers.authorization
      ? { kind: "status", status: 307, headers: { location: `http://${storage.host}/v2/t/app/blobs/${layer.digest}` } }
      : { kind: "pass" });
  const client = createRegistryClient({ ...clientOptions(basic), credentials: { [front.host]: { username: basic.username!, password: basic.password! } } });
  try {
    const bytes = await collect(client.fetchBlob(`${front.host}/t/app`, layer.digest));
    assert.is(sha256(bytes), layer.digest);
    assert.ok(front.requests.some((r) => r.headers.authorization?.startsWith("Basic ")), "the registry got the credentials");
    assert.is(storage.requests.length, 1);
    assert.is(storage.requests[0]!.headers.authorization, undefined, "the other host did not");
  } finally {
    await client.close();
    await front.stop();
    await storage.stop();
  }
});

it("an aborted pull stops with the abort reason", async ({ plain }) => {
  const image = await busyboxImage();
  const controller = new AbortController();
  const client = createRegistryClient({ ...clientOptions(plain), signal: controller.signal });
  try {
    const stream = client.fetchBlob(`${plain.host}/t/app`, image.layers[0]!.digest);
    controller.abort(new Error("user cancelled"));
    const err = await rejects(collect(stream));
    assert.match(err.message, /cancelled|abort/i);
    const later = await rejects(client.getManifest(`${plain.host}/t/app:1`));
    assert.match(later.message, /cancelled|abort/i);
  } finally {
    await client.close();
  }
});

it("certs.d: a per-registry CA and client certificate, as Docker and skopeo read them", async () => {
  const registry = await startRegistry({ clientCerts: true });
  const image = await busyboxImage();
  const withCerts = createRegistryClient({ env: {}, retry: { retries: 0 }, certsDir: registry.certsRoot });
  const caOnly = createRegistryClient({ env: {}, retry: { retries: 0 }, caFile: registry.caFile, certsDir: "/nonexistent" });
  try {
    const pushed = await withCerts.pushImage(`${registry.host}/t/mtls:1`, { manifest: image.manifest, blobs: image.blobs });
    assert.is(pushed.digest, image.manifest.digest);
    const err = await rejects(caOnly.getManifest(`${registry.host}/t/mtls:1`));
    assert.is(err.code, "REGISTRY_UNREACHABLE");
    assert.match(err.message, registry.host);
    assert.match(err.hint!, "client certificate");
    const inspected = JSON.parse(execFileSync("skopeo", ["inspect", "--cert-dir", registry.certDir!, `docker://${registry.host}/t/mtls:1`], { encoding: "utf8" })) as { Digest: string };
    assert.is(inspected.Digest, image.manifest.digest);
  } finally {
    await withCerts.close();
    await caOnly.close();
    await registry.stop();
  }
});

it("HTTPS_PROXY tunnels to remote registries; NO_PROXY and loopback go direct", async ({ plain }) => {
  assert.ok(outside, "this machine needs an address outside 127.0.0.0/8");
  const registry = await startRegistry({ tls: true, address: outside });
  const proxy = await startConnectProxy();
  const image = await busyboxImage();
  const base = { retry: { retries: 0 }, caFile: registry.caFile };
  const proxied = createRegistryClient({ ...base, env: { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url } });
  const excluded = createRegistryClient({ ...base, env: { https_proxy: proxy.url, NO_PROXY: `example.com,${outside}` } });
  try {
    assert.is((await proxied.pushImage(`${registry.host}/t/proxied:1`, { manifest: image.manifest, blobs: image.blobs })).digest, image.manifest.digest);
    assert.ok(proxy.connects.length > 0);
    assert.ok(proxy.connects.every((c) => c === registry.host), "only the remote registry went through the proxy");
    const before = proxy.connects.length;
    await proxied.getManifest(`${plain.host}/t/app:1`);
    await excluded.getManifest(`${registry.host}/t/proxied:1`);
    assert.is(proxy.connects.length, before, "loopback and NO_PROXY hosts are reached directly");
  } finally {
    await proxied.close();
    await excluded.close();
    await proxy.stop();
    await registry.stop();
  }
});

it.run();

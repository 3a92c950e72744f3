// The same push/pull round trip against docker-registry in its four configurations.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { startRegistry, type RegistryOptions, type TestRegistry } from "../helpers/registry.js";
import type { TestImage } from "../helpers/test-image.js";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { createRegistryClient, login, type RegistryEvent } from "../../src/registry/index.js";
import { busyboxImage, clientOptions, collect, rejects, sha256, storeBlob, tempDir } from "./fixture.js";

const configurations: [string, RegistryOptions][] = [
  ["plain", {}],
  ["htpasswd", { auth: "htpasswd" }],
  ["tls", { tls: true }],
  ["token", { auth: "token" }],
];

for (const [name, options] of configurations) {
  const it = suite<{ registry: TestRegistry; image: TestImage }>(`registry ${name}`);

  it.before(async (context) => {
    context.image = await busyboxImage();
    context.registry = await startRegistry(options);
  });
  it.after(async ({ registry }) => {
    await registry?.stop();
  });

  it("pushes an image under two tags, blobs chunked and monolithic, then skips what is there", async ({ registry, image }) => {
    const events: RegistryEvent[] = [];
    // A chunk size below the busybox layer's size sends it in PATCH chunks; the config goes in one PUT.
    const client = createRegistryClient({ ...clientOptions(registry, events), chunkSize: 256 * 1024 });
    try {
      const result = await client.pushImage(`${registry.host}/test/busybox:v1`, { manifest: image.manifest, blobs: image.blobs, tags: ["v2"] });
      assert.is(result.digest, image.manifest.digest);
      assert.equal(Object.values(result.blobs), image.blobs.map(() => "pushed"));
      assert.ok(events.some((e) => e.type === "blob-progress" && e.digest === image.layers[0]!.digest), "busybox layer went in chunks");
      const again = await client.pushImage(`${registry.host}/test/busybox:v1`, { manifest: image.manifest, blobs: image.blobs });
      assert.equal(Object.values(again.blobs), image.blobs.map(() => "exists"));
    } finally {
      await client.close();
    }
  });

  it("pulls the manifest by tag and by digest and every blob, verified", async ({ registry, image }) => {
    const client = createRegistryClient(clientOptions(registry));
    try {
      const byTag = await client.getManifest(`${registry.host}/test/busybox:v2`);
      assert.is(byTag.digest, image.manifest.digest);
      assert.is(byTag.mediaType, image.manifest.mediaType);
      assert.ok(byTag.bytes.equals(image.manifest.bytes));
      const byDigest = await client.getManifest(`${registry.host}/test/busybox@${image.manifest.digest}`);
      assert.is(byDigest.digest, image.manifest.digest);
      for (const blob of image.blobs) {
        const bytes = await collect(client.fetchBlob(`${registry.host}/test/busybox`, blob.digest, { size: blob.size }));
        assert.is(sha256(bytes), blob.digest);
      }
      assert.ok(await client.hasBlob(`${registry.host}/test/busybox`, image.config.digest));
      assert.not.ok(await client.hasBlob(`${registry.host}/test/busybox`, sha256(Buffer.from("absent"))));
    } finally {
      await client.close();
    }
  });

  it("mounts blobs from another repository instead of uploading them", async ({ registry, image }) => {
    const client = createRegistryClient(clientOptions(registry));
    try {
      const result = await client.pushImage(`${registry.host}/other/copy:1`, { manifest: image.manifest, blobs: image.blobs, mountFrom: ["test/busybox"] });
      assert.equal(Object.values(result.blobs), image.blobs.map(() => "mounted"));
    } finally {
      await client.close();
    }
  });

  it("says which manifest is missing where", async ({ registry }) => {
    const client = createRegistryClient(clientOptions(registry));
    try {
      const err = await rejects(client.getManifest(`${registry.host}/test/busybox:nope`));
      assert.is(err.code, "REGISTRY_NOT_FOUND");
      assert.match(err.message, `${registry.host}/test/busybox`);
      assert.match(err.message, "nope");
    } finally {
      await client.close();
    }
  });


  it("pullImage stores config and layers through the caller, skipping what it has", async ({ registry, image }) => {
    const dir = await tempDir();
    const client = createRegistryClient(clientOptions(registry));
    try {
      const store = (blob: { digest: string }, stream: Readable) => storeBlob(stream, join(dir.path, blob.digest.slice(7)));
      const first = await client.pullImage(`${registry.host}/test/busybox:v1`, { store });
      assert.is(first.digest, image.manifest.digest);
      assert.equal(first.fetched.sort(), image.blobs.map((b) => b.digest).sort());
      for (const blob of image.blobs) assert.is(sha256(await readFile(join(dir.path, blob.digest.slice(7)))), blob.digest);
      const second = await client.pullImage(`${registry.host}/test/busybox:v1`, { store, has: async (b) => existsSync(join(dir.path, b.digest.slice(7))) });
      assert.equal(second.fetched, []);
      assert.is(second.config.digest, image.config.digest);
    } finally {
      await client.close();
      await dir.remove();
    }
  });

  if (options.auth) {
    it("login checks the credentials against the registry", async ({ registry }) => {
      const dir = await tempDir();
      try {
        const env = { HOME: dir.path };
        const tls = { caFile: registry.caFile };
        assert.is((await rejects(login(registry.host, { username: registry.username!, password: "bad" }, { env, ...tls }))).code, "REGISTRY_UNAUTHORIZED");
        const path = await login(registry.host, { username: registry.username!, password: registry.password! }, { env, ...tls });
        const client = createRegistryClient({ env, caFile: registry.caFile });
        assert.is((await client.getManifest(`${registry.host}/test/busybox:v1`)).digest.length, 71, `credentials read back from ${path}`);
        await client.close();
      } finally {
        await dir.remove();
      }
    });
  }

  if (options.auth) {
    it("refuses without credentials and with a wrong password, and never shows the secrets", async ({ registry }) => {
      const events: RegistryEvent[] = [];
      const anonymous = createRegistryClient({ ...clientOptions(registry, events), credentials: {} });
      const wrong = createRegistryClient({ ...clientOptions(registry, events), credentials: { [registry.host]: { username: registry.username!, password: "wrong-password-123" } } });
      try {
        const noCredentials = await rejects(anonymous.getManifest(`${registry.host}/test/busybox:v1`));
        assert.is(noCredentials.code, "REGISTRY_UNAUTHORIZED");
        assert.match(noCredentials.message, "requires authentication");
        assert.match(noCredentials.hint!, "login");
        const rejected = await rejects(wrong.pushBlob(`${registry.host}/test/busybox:v1`, { digest: sha256(Buffer.from("x")), size: 1, open: () => { throw new Error("not reached"); } }));
        assert.is(rejected.code, "REGISTRY_UNAUTHORIZED");
        assert.match(rejected.message, "rejected the credentials");
        const secrets = ["wrong-password-123", registry.password!, ...(registry.tokenIssuer?.issued.map((t) => t.token) ?? [])];
        const shown = JSON.stringify([noCredentials, rejected, noCredentials.message, rejected.message, rejected.hint, noCredentials.stack, rejected.stack, events]);
        for (const secret of secrets) assert.not.ok(shown.includes(secret), "a secret leaked");
        assert.not.ok(shown.includes(Buffer.from(`${registry.username}:wrong-password-123`).toString("base64")));
      } finally {
        await anonymous.close();
        await wrong.close();
      }
    });
  }

  if (options.auth === "token") {
    it("asks for one token per scope, reuses it, and renews it when it expires", async ({ registry, image }) => {
      const issuer = registry.tokenIssuer!;
      const events: RegistryEvent[] = [];
      const client = createRegistryClient(clientOptions(registry, events));
      try {
        issuer.setExpiresIn(2);
        const before = issuer.issued.length;
        await client.getManifest(`${registry.host}/test/busybox:v1`);
        await collect(client.fetchBlob(`${registry.host}/test/busybox`, image.config.digest));
        await client.getManifest(`${registry.host}/test/busybox:v2`);
        const first = issuer.issued.slice(before);
        assert.is(first.length, 1, "one token for three requests of one scope");
        assert.equal(first[0]!.scopes, ["repository:test/busybox:pull"]);
        await new Promise((resolve) => setTimeout(resolve, 2100));
        await client.getManifest(`${registry.host}/test/busybox:v1`);
        assert.is(issuer.issued.length - before, 2, "a new token after expiry");
        const beforePush = issuer.issued.length;
        await client.pushImage(`${registry.host}/test/parallel:1`, { manifest: image.manifest, blobs: image.blobs, concurrency: 3 });
        assert.equal(issuer.issued.slice(beforePush).map((t) => t.scopes), [["repository:test/parallel:pull,push"]], "parallel uploads share one token");
        const secrets = JSON.stringify(events);
        for (const { token } of issuer.issued) assert.not.ok(secrets.includes(token));
      } finally {
        issuer.setExpiresIn(300);
        await client.close();
      }
    });
  }

  if (options.auth === "token") {
    it("an identity token in config.json is exchanged as an OAuth2 refresh token", async ({ registry }) => {
      const dir = await tempDir();
      const events: RegistryEvent[] = [];
      try {
        const configDir = join(dir.path, "docker");
        await mkdir(configDir);
        const identityToken = registry.tokenIssuer!.refreshToken;
        await writeFile(join(configDir, "config.json"), JSON.stringify({ auths: { [registry.host]: { identitytoken: identityToken } } }));
        const client = createRegistryClient({ env: { DOCKER_CONFIG: configDir }, onEvent: (e) => events.push(e) });
        try {
          assert.match((await client.getManifest(`${registry.host}/test/busybox:v1`)).digest, /^sha256:/);
        } finally {
          await client.close();
        }
        assert.ok(events.some((e) => e.type === "token"));
        assert.not.ok(JSON.stringify(events).includes(identityToken));
        await writeFile(join(configDir, "config.json"), JSON.stringify({ auths: { [registry.host]: { identitytoken: "revoked" } } }));
        const revoked = createRegistryClient({ env: { DOCKER_CONFIG: configDir }, retry: { retries: 0 } });
        const err = await rejects(revoked.getManifest(`${registry.host}/test/busybox:v1`)).finally(() => revoked.close());
        assert.is(err.code, "REGISTRY_UNAUTHORIZED");
        assert.not.ok(`${err.message} ${err.hint}`.includes("revoked"));
      } finally {
        await dir.remove();
      }
    });
  }

  if (options.tls) {
    it("does not trust the self-signed CA unless told to", async ({ registry }) => {
      const untrusting = createRegistryClient({ ...clientOptions(registry), caFile: undefined });
      const viaEnv = createRegistryClient({ ...clientOptions(registry), caFile: undefined, env: { SSL_CERT_FILE: registry.caFile } });
      const insecure = createRegistryClient({ ...clientOptions(registry), caFile: undefined, insecureRegistries: [registry.host] });
      try {
        const err = await rejects(untrusting.getManifest(`${registry.host}/test/busybox:v1`));
        assert.is(err.code, "REGISTRY_TLS");
        assert.match(err.message, registry.host);
        assert.match(err.hint!, "--ca-file");
        assert.is((await viaEnv.getManifest(`${registry.host}/test/busybox:v1`)).digest, (await insecure.getManifest(`${registry.host}/test/busybox:v1`)).digest);
      } finally {
        await untrusting.close();
        await viaEnv.close();
        await insecure.close();
      }
    });
  }

  it.run();
}

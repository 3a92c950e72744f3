// Credentials from Docker's config.json, REGISTRY_AUTH_FILE and credential helpers; login/logout.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { createRegistryClient, login, logout, resolveCredentials, type RegistryClientOptions } from "../../src/registry/index.js";
import { busyboxImage, rejects, tempDir } from "./fixture.js";

const it = suite<{ registry: TestRegistry; dir: string; remove: () => Promise<void>; n: number }>("credentials");

it.before(async (context) => {
  const dir = await tempDir();
  context.dir = dir.path;
  context.remove = dir.remove;
  context.n = 0;
  context.registry = await startRegistry({ auth: "htpasswd" });
  const image = await busyboxImage();
  const client = createRegistryClient({ credentials: { [context.registry.host]: { username: context.registry.username!, password: context.registry.password! } }, env: {} });
  await client.pushImage(`${context.registry.host}/creds/app:1`, { manifest: image.manifest, blobs: image.blobs });
  await client.close();
});
it.after(async ({ registry, remove }) => {
  await registry?.stop();
  await remove?.();
});

/** A fresh HOME with a credential helper `docker-credential-test` on PATH that keeps one entry in a file. */
async function home(context: { dir: string; n: number }): Promise<{ env: NodeJS.ProcessEnv; home: string; store: string }> {
  const home = join(context.dir, `home${context.n++}`);
  const bin = join(home, "bin");
  await mkdir(bin, { recursive: true });
  const store = join(home, "helper-store.json");
  await writeFile(join(bin, "docker-credential-test"), `#!/bin/sh
case "$1" in
  get) cat >/dev/null; if [ -f '${store}' ]; then cat '${store}'; else echo "credentials not found in native keychain"; exit 1; fi ;;
  store) cat > '${store}' ;;
  erase) cat >/dev/null; rm -f '${store}' ;;
esac
`);
  await chmod(join(bin, "docker-credential-test"), 0o755);
  return { env: { HOME: home, PATH: `${bin}:${process.env.PATH}` }, home, store };
}

const auth = (user: string, password: string): string => Buffer.from(`${user}:${password}`).toString("base64");

async function pulls(registry: TestRegistry, options: RegistryClientOptions): Promise<string> {
  const client = createRegistryClient({ retry: { retries: 0 }, ...options });
  try {
    return (await client.getManifest(`${registry.host}/creds/app:1`)).digest;
  } finally {
    await client.close();
  }
}

it("reads auths from ~/.docker/config.json, whatever form the key has", async (context) => {
  const { registry } = context;
  for (const key of [registry.host, `https://${registry.host}`, `http://${registry.host}/v2/`]) {
    const { env, home: h } = await home(context);
    await mkdir(join(h, ".docker"));
    await writeFile(join(h, ".docker/config.json"), JSON.stringify({ auths: { [key]: { auth: auth(registry.username!, registry.password!) } } }));
    assert.match(await pulls(registry, { env }), /^sha256:/, key);
  }
});

it("REGISTRY_AUTH_FILE is read before the Docker config, DOCKER_CONFIG moves the Docker config", async (context) => {
  const { registry } = context;
  const { env, home: h } = await home(context);
  await mkdir(join(h, "docker-elsewhere"));
  await writeFile(join(h, "docker-elsewhere/config.json"), JSON.stringify({ auths: { [registry.host]: { auth: auth(registry.username!, "wrong") } } }));
  await writeFile(join(h, "auth.json"), JSON.stringify({ auths: { [registry.host]: { auth: auth(registry.username!, registry.password!) } } }));
  const wrong = await rejects(pulls(registry, { env: { ...env, DOCKER_CONFIG: join(h, "docker-elsewhere") } }));
  assert.is(wrong.code, "REGISTRY_UNAUTHORIZED");
  assert.match(await pulls(registry, { env: { ...env, DOCKER_CONFIG: join(h, "docker-elsewhere"), REGISTRY_AUTH_FILE: join(h, "auth.json") } }), /^sha256:/);
});

it("asks credHelpers and credsStore through docker-credential-<name> get", async (context) => {
  const { registry } = context;
  for (const config of [{ credHelpers: { [registry.host]: "test" } }, { credsStore: "test", auths: { [registry.host]: {} } }]) {
    const { env, home: h, store } = await home(context);
    await mkdir(join(h, ".docker"));
    await writeFile(join(h, ".docker/config.json"), JSON.stringify(config));
    assert.is(await resolveCredentials(registry.host, { env }), undefined, "the helper has nothing yet");
    await writeFile(store, JSON.stringify({ ServerURL: registry.host, Username: registry.username, Secret: registry.password }));
    assert.match(await pulls(registry, { env }), /^sha256:/);
  }
  const { env, home: h, store } = await home(context);
  await mkdir(join(h, ".docker"));
  await writeFile(join(h, ".docker/config.json"), JSON.stringify({ credsStore: "test" }));
  await writeFile(store, JSON.stringify({ ServerURL: registry.host, Username: "<token>", Secret: "refresh-123" }));
  assert.equal(await resolveCredentials(registry.host, { env }), { username: "", password: "", identityToken: "refresh-123" }, "<token> means an identity token");
  const missing = await rejects(resolveCredentials(registry.host, { env: { HOME: context.dir, PATH: "/nonexistent" }, authFile: await writeConfig(context.dir, { credsStore: "absent" }) }));
  assert.is(missing.code, "REGISTRY_CREDENTIAL_HELPER");
  assert.match(missing.message, "docker-credential-absent");
});

async function writeConfig(dir: string, config: object): Promise<string> {
  const path = join(dir, "config-helper-missing.json");
  await writeFile(path, JSON.stringify(config));
  return path;
}

it("login checks the password, writes config.json (0600) that later clients use; logout removes it", async (context) => {
  const { registry } = context;
  const { env, home: h } = await home(context);
  const bad = await rejects(login(registry.host, { username: registry.username!, password: "nope" }, { env }));
  assert.is(bad.code, "REGISTRY_UNAUTHORIZED");
  assert.not.ok(existsSync(join(h, ".docker/config.json")), "nothing written for bad credentials");
  const path = await login(registry.host, { username: registry.username!, password: registry.password! }, { env });
  assert.is(path, join(h, ".docker/config.json"));
  assert.is((await stat(path)).mode & 0o777, 0o600);
  const written = JSON.parse(await readFile(path, "utf8")) as { auths: Record<string, { auth: string }> };
  assert.is(written.auths[registry.host]!.auth, auth(registry.username!, registry.password!));
  assert.match(await pulls(registry, { env }), /^sha256:/);
  assert.ok(await logout(registry.host, { env }));
  assert.not.ok(await logout(registry.host, { env }), "second logout has nothing to remove");
  assert.is((await rejects(pulls(registry, { env }))).code, "REGISTRY_UNAUTHORIZED");
});

it("login stores in the credsStore helper when one is configured", async (context) => {
  const { registry } = context;
  const { env, home: h, store } = await home(context);
  await mkdir(join(h, ".docker"));
  await writeFile(join(h, ".docker/config.json"), JSON.stringify({ credsStore: "test" }));
  await login(registry.host, { username: registry.username!, password: registry.password! }, { env });
  assert.not.ok((await readFile(join(h, ".docker/config.json"), "utf8")).includes(registry.password!), "no password in config.json");
  assert.is(JSON.parse(await readFile(store, "utf8")).Secret, registry.password);
  assert.match(await pulls(registry, { env }), /^sha256:/);
  await logout(registry.host, { env });
  assert.not.ok(existsSync(store));
});

it.run();

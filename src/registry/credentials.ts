import { spawn } from "node:child_process";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { RegistryError } from "./errors.js";
import { DOCKER_HUB } from "./reference.js";

export interface Credentials {
  username: string;
  password: string;
  /** An OAuth2 refresh token (`identitytoken` in config.json, or a helper's `<token>` user), used instead of the password. */
  identityToken?: string;
}

// docker/cli's convention: a helper answering this user name returns an identity token as the secret.
const TOKEN_USER = "<token>";

export interface CredentialSources {
  /** Given credentials per registry (`host[:port]`); they win over every file. */
  credentials?: Record<string, Credentials>;
  /** An auth file in config.json format, read before the Docker config (as podman's `--authfile`). */
  authFile?: string;
  env?: NodeJS.ProcessEnv;
}

interface AuthConfig {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface ConfigFile {
  auths?: Record<string, AuthConfig>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [other: string]: unknown;
}

const DOCKER_HUB_KEY = "https://index.docker.io/v1/";

/** The key Docker uses in config.json and sends to credential helpers. */
export function serverKey(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_KEY : registry;
}

// Keys are written as `host`, `https://host`, `https://host/v1/`… (docker/cli's ConvertToHostname).
function keyHost(key: string): string {
  const host = key.replace(/^https?:\/\//, "").split("/")[0]!;
  return host === "index.docker.io" || host === "registry-1.docker.io" ? DOCKER_HUB : host;
}

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), ".docker"), "config.json");
}

async function readConfig(path: string): Promise<ConfigFile | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as ConfigFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new RegistryError("REGISTRY_CREDENTIAL_HELPER", `cannot read auth file ${path}: ${(err as Error).message}`, {
      hint: "fix or remove the file; it must be JSON as Docker's config.json",
    });
  }
}

/** Runs `docker-credential-<helper> <action>` as docker/cli does: the server on stdin, JSON on stdout. */
async function runHelper(helper: string, action: "get" | "store" | "erase", input: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const program = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, [action], { env, stdio: ["pipe", "pipe", "ignore"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.on("error", (err) =>
      reject(new RegistryError("REGISTRY_CREDENTIAL_HELPER", `credential helper ${program} cannot be run (${(err as NodeJS.ErrnoException).code})`, {
        hint: `install ${program} on PATH, or remove "${helper}" from credsStore/credHelpers in the Docker config`,
      })));
    child.on("close", (code) => {
      if (code === 0) return resolve(out);
      if (/credentials not found/i.test(out)) return resolve(undefined);
      // The helper's output is not repeated: it may hold a secret.
      reject(new RegistryError("REGISTRY_CREDENTIAL_HELPER", `credential helper ${program} ${action} failed with exit code ${code}`, {
        hint: `run "echo <server> | ${program} ${action}" to see why`,
      }));
    });
    child.stdin.on("error", () => {});
    child.stdin.end(input);
  });
}

async function fromHelper(helper: string, registry: string, env: NodeJS.ProcessEnv): Promise<Credentials | undefined> {
  const out = await runHelper(helper, "get", serverKey(registry), env);
  if (out === undefined) return undefined;
  const parsed = JSON.parse(out) as { Username?: string; Secret?: string };
  if (!parsed.Secret) return undefined;
  if (parsed.Username === TOKEN_USER) return { username: "", password: "", identityToken: parsed.Secret };
  return { username: parsed.Username ?? "", password: parsed.Secret };
}

function fromAuthConfig(entry: AuthConfig): Credentials | undefined {
  if (entry.identitytoken) return { username: "", password: "", identityToken: entry.identitytoken };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  return undefined;
}

async function fromConfig(config: ConfigFile, registry: string, env: NodeJS.ProcessEnv): Promise<Credentials | undefined> {
  const helper = Object.entries(config.credHelpers ?? {}).find(([key]) => keyHost(key) === registry)?.[1];
  if (helper) return fromHelper(helper, registry, env);
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (keyHost(key) !== registry) continue;
    const found = fromAuthConfig(entry);
    if (found) return found;
  }
  return config.credsStore ? fromHelper(config.credsStore, registry, env) : undefined;
}

function configFiles(sources: CredentialSources): string[] {
  const env = sources.env ?? process.env;
  const authFile = sources.authFile ?? env.REGISTRY_AUTH_FILE;
  return [...(authFile ? [authFile] : []), dockerConfigPath(env)];
}

/** Credentials for `registry`: given ones, then REGISTRY_AUTH_FILE / authFile, then the Docker config. */
export async function resolveCredentials(registry: string, sources: CredentialSources = {}): Promise<Credentials | undefined> {
  const given = sources.credentials?.[registry];
  if (given) return given;
  const env = sources.env ?? process.env;
  for (const path of configFiles(sources)) {
    const config = await readConfig(path);
    const found = config && (await fromConfig(config, registry, env));
    if (found) return found;
  }
  return undefined;
}

async function writeConfig(path: string, config: ConfigFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(config, null, "\t")}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

function targetFile(sources: CredentialSources): string {
  return configFiles(sources)[0]!;
}

/**
 * Stores credentials as `docker login` does: in the helper named by credHelpers/credsStore if there is
 * one, else base64 in `auths`. Verifying them against the registry is the caller's job (see client.login).
 */
export async function storeCredentials(registry: string, credentials: Credentials, sources: Omit<CredentialSources, "credentials"> = {}): Promise<string> {
  const env = sources.env ?? process.env;
  const path = targetFile(sources);
  const config = (await readConfig(path)) ?? {};
  const helper = config.credHelpers?.[serverKey(registry)] ?? config.credHelpers?.[registry] ?? config.credsStore;
  const key = serverKey(registry);
  config.auths ??= {};
  if (helper) {
    await runHelper(helper, "store", JSON.stringify({ ServerURL: key, Username: credentials.username, Secret: credentials.password }), env);
    config.auths[key] = {};
  } else {
    config.auths[key] = { auth: Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64") };
  }
  await writeConfig(path, config);
  return path;
}

/** Removes what storeCredentials stored. Returns false when there was nothing for `registry`. */
export async function eraseCredentials(registry: string, sources: Omit<CredentialSources, "credentials"> = {}): Promise<boolean> {
  const env = sources.env ?? process.env;
  const path = targetFile(sources);
  const config = await readConfig(path);
  if (!config) return false;
  const keys = Object.keys(config.auths ?? {}).filter((key) => keyHost(key) === registry);
  const helper = config.credHelpers?.[serverKey(registry)] ?? config.credHelpers?.[registry] ?? config.credsStore;
  if (helper) await runHelper(helper, "erase", serverKey(registry), env).catch(() => undefined);
  for (const key of keys) delete config.auths![key];
  if (keys.length) await writeConfig(path, config);
  return keys.length > 0;
}

// A real registry for tests: Debian's docker-registry (distribution v2) on 127.0.0.1, a free port and a
// temp dir; optionally behind htpasswd basic auth, token auth (a token issuer in this process) or TLS
// with a CA made here. Always cleaned up: by stop(), and by an exit hook if a test forgets or crashes.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { openSync, closeSync, rmSync, readFileSync } from "node:fs";
import { mkdtemp, mkdir, copyFile, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startTokenIssuer, type TokenIssuer } from "./token-issuer.js";

export interface RegistryOptions {
  auth?: "htpasswd" | "token";
  tls?: boolean;
  /** TLS that also requires a client certificate signed by the test CA (implies tls). */
  clientCerts?: boolean;
  /** The address to listen on; default 127.0.0.1. Another one tests what is not "local" to Docker. */
  address?: string;
}

export interface TestRegistry {
  /** `127.0.0.1:PORT` (or the address asked for), the registry part of references. */
  host: string;
  url: string;
  dir: string;
  username?: string;
  password?: string;
  /** PEM of the CA that signed the registry's certificate (tls only). */
  caFile?: string;
  /** `certs.d/<host>` with ca.crt (and client.cert/.key), for `skopeo --cert-dir` (tls only). */
  certDir?: string;
  /** Its parent, laid out as Docker's /etc/docker/certs.d, for the client's `certsDir`. */
  certsRoot?: string;
  tokenIssuer?: TokenIssuer;
  /** Arguments that let skopeo reach this registry, `--src-*` or `--dest-*` by `side`. */
  skopeoArgs(side: "src" | "dest"): string[];
  /** SIGTERM, wait, remove the temp dir. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash; the data stays for restart(). */
  kill(): Promise<void>;
  /** Start again on the same port with the same data. */
  restart(): Promise<void>;
}

const live = new Set<{ child: ChildProcess | undefined; dir: string }>();
process.on("exit", () => {
  for (const entry of live) {
    entry.child?.kill("SIGKILL");
    rmSync(entry.dir, { recursive: true, force: true });
  }
});

async function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, address, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function openssl(args: string[]): void {
  execFileSync("openssl", args, { stdio: "ignore" });
}

interface Tls {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** certs.d/<host>: ca.crt, and client.cert + client.key when client certificates are required. */
  certDir: string;
  certsRoot: string;
  client?: { cert: string; key: string };
}

async function makeTls(dir: string, host: string, clientCerts: boolean): Promise<Tls> {
  const address = host.replace(/:\d+$/, "");
  const caFile = join(dir, "ca.crt");
  const caKey = join(dir, "ca.key");
  openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey, "-out", caFile, "-days", "2", "-subj", "/CN=build-image test CA"]);
  const signed = async (name: string, subject: string, ext: string): Promise<{ cert: string; key: string }> => {
    const key = join(dir, `${name}.key`);
    const cert = join(dir, `${name}.crt`);
    openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", join(dir, `${name}.csr`), "-subj", subject]);
    await writeFile(join(dir, `${name}.ext`), ext);
    openssl(["x509", "-req", "-in", join(dir, `${name}.csr`), "-CA", caFile, "-CAkey", caKey, "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", join(dir, `${name}.ext`)]);
    return { cert, key };
  };
  const server = await signed("server", "/CN=127.0.0.1", `subjectAltName=IP:127.0.0.1,DNS:localhost${address === "127.0.0.1" ? "" : `,IP:${address}`}\nextendedKeyUsage=serverAuth\n`);
  const certsRoot = join(dir, "certs.d");
  const certDir = join(certsRoot, host);
  await mkdir(certDir, { recursive: true });
  await copyFile(caFile, join(certDir, "ca.crt"));
  let client: Tls["client"];
  if (clientCerts) {
    client = await signed("client", "/CN=build-image test client", "extendedKeyUsage=clientAuth\n");
    await copyFile(client.cert, join(certDir, "client.cert"));
    await copyFile(client.key, join(certDir, "client.key"));
  }
  return { caFile, certFile: server.cert, keyFile: server.key, certDir, certsRoot, client };
}

function probe(url: string, tls: { ca: string; cert?: string; key?: string } | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const request = url.startsWith("https:") ? httpsRequest : httpRequest;
    const req = request(`${url}/v2/`, { ...tls, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 || res.statusCode === 401);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), "build-image-registry-"));
  const entry: { child: ChildProcess | undefined; dir: string } = { child: undefined, dir };
  live.add(entry);
  let tokenIssuer: TokenIssuer | undefined;
  try {
    const address = options.address ?? "127.0.0.1";
    const port = await freePort(address);
    const host = `${address}:${port}`;
    const tls = options.tls || options.clientCerts ? await makeTls(dir, host, options.clientCerts === true) : undefined;
    const url = `${tls ? "https" : "http"}://${host}`;
    const username = options.auth ? "tester" : undefined;
    const password = options.auth ? randomBytes(12).toString("hex") : undefined;
    let auth = "";
    if (options.auth === "htpasswd") {
      await writeFile(join(dir, "htpasswd"), execFileSync("htpasswd", ["-Bbn", username!, password!], { encoding: "utf8" }));
      auth = `auth:\n  htpasswd:\n    realm: test-realm\n    path: ${join(dir, "htpasswd")}\n`;
    } else if (options.auth === "token") {
      tokenIssuer = await startTokenIssuer({ dir, username: username!, password: password! });
      auth = `auth:\n  token:\n    realm: ${tokenIssuer.realm}\n    service: ${tokenIssuer.service}\n    issuer: ${tokenIssuer.issuer}\n    rootcertbundle: ${tokenIssuer.certFile}\n`;
    }
    const config = join(dir, "config.yml");
    await writeFile(config, [
      "version: 0.1",
      "log:\n  level: warn\n  accesslog:\n    disabled: true",
      `storage:\n  filesystem:\n    rootdirectory: ${join(dir, "data")}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false`,
      `http:\n  addr: ${host}\n  secret: ${randomBytes(16).toString("hex")}` +
        (tls ? `\n  tls:\n    certificate: ${tls.certFile}\n    key: ${tls.keyFile}` : "") +
        (tls?.client ? `\n    clientcas:\n      - ${tls.caFile}` : ""),
      auth,
    ].join("\n"));
    const probeTls = tls && {
      ca: readFileSync(tls.caFile, "utf8"),
      ...(tls.client ? { cert: readFileSync(tls.client.cert, "utf8"), key: readFileSync(tls.client.key, "utf8") } : {}),
    };

    const start = async (): Promise<void> => {
      const log = openSync(join(dir, "registry.log"), "a");
      // setpriv --pdeathsig: the registry dies with this process even when it is SIGKILLed (a test timeout).
      const child = spawn("setpriv", ["--pdeathsig", "KILL", "docker-registry", "serve", config], { stdio: ["ignore", log, log] });
      closeSync(log);
      entry.child = child;
      let exited = false;
      child.on("exit", () => (exited = true));
      for (let i = 0; i < 200; i++) {
        if (exited) throw new Error(`docker-registry exited at start:\n${readFileSync(join(dir, "registry.log"), "utf8")}`);
        if (await probe(url, probeTls)) return;
        await sleep(50);
      }
      throw new Error(`docker-registry did not answer on ${url} within 10 s`);
    };
    const halt = async (signal: NodeJS.Signals): Promise<void> => {
      const child = entry.child;
      entry.child = undefined;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill(signal);
      await Promise.race([exited, sleep(5000).then(() => child.kill("SIGKILL"))]);
      await exited;
    };

    await start();
    return {
      host,
      url,
      dir,
      username,
      password,
      caFile: tls?.caFile,
      certDir: tls?.certDir,
      certsRoot: tls?.certsRoot,
      tokenIssuer,
      skopeoArgs: (side) => [
        ...(tls ? [`--${side}-cert-dir`, tls.certDir] : [`--${side}-tls-verify=false`]),
        ...(username ? [`--${side}-creds`, `${username}:${password}`] : [`--${side}-no-creds`]),
      ],
      async stop() {
        await halt("SIGTERM");
        await tokenIssuer?.stop();
        live.delete(entry);
        rmSync(dir, { recursive: true, force: true });
      },
      kill: () => halt("SIGKILL"),
      restart: async () => {
        await halt("SIGTERM");
        await start();
      },
    };
  } catch (err) {
    entry.child?.kill("SIGKILL");
    await tokenIssuer?.stop();
    live.delete(entry);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

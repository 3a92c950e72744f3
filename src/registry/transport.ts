import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import type { Dispatcher } from "undici";

type Undici = typeof import("undici");
let undiciModule: Promise<Undici> | undefined;
/** undici loads on the first request: a build that never talks to a registry does not pay for it. */
const loadUndici = (): Promise<Undici> => (undiciModule ??= import("undici"));
import type { ConnectionOptions } from "node:tls";
import type { Dispatch, RegistryRequest, RegistryResponse } from "./dispatch.js";
import { RegistryError } from "./errors.js";
import { proxyFor, proxySettings } from "./proxy.js";
import { DOCKER_HUB } from "./reference.js";

export interface TransportOptions {
  /** Registries (`host[:port]`) reached over plain http or TLS without verification, as `--insecure-registry`. */
  insecureRegistries?: string[];
  /** Extra CA certificates (PEM) trusted beside the system ones; `SSL_CERT_FILE` from `env` too. */
  caFile?: string;
  /** Per-registry CAs and client certificates, laid out as Docker's `/etc/docker/certs.d/<host:port>/` (the default). */
  certsDir?: string;
  /** SSL_CERT_FILE, HTTP_PROXY, HTTPS_PROXY, NO_PROXY are read from here (default process.env). */
  env?: NodeJS.ProcessEnv;
}

function readCertsDir(dir: string): { ca: string[]; cert: string[]; key: string[] } | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const read = (name: string): string => readFileSync(join(dir, name), "utf8");
  const pairs = names.filter((n) => n.endsWith(".cert") && names.includes(n.replace(/\.cert$/, ".key")));
  const found = {
    ca: names.filter((n) => n.endsWith(".crt")).map(read),
    cert: pairs.map(read),
    key: pairs.map((n) => read(n.replace(/\.cert$/, ".key"))),
  };
  return found.ca.length || found.cert.length ? found : undefined;
}

export interface Transport {
  dispatch: Dispatch;
  close(): Promise<void>;
}

const networkCodes = new Set([
  "ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH",
  "UND_ERR_SOCKET", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_CLOSED",
]);
const certCodes = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME/;

function errorCode(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.cause?.code ?? e?.code ?? "";
}

export function isNetworkError(err: unknown): boolean {
  return networkCodes.has(errorCode(err));
}

function isTlsProtocolError(err: unknown): boolean {
  const code = errorCode(err);
  return code.startsWith("ERR_SSL_") || code === "EPROTO";
}

function hostOf(registry: string): string {
  return registry === DOCKER_HUB ? "registry-1.docker.io" : registry;
}

/** Docker's rule: localhost and 127.0.0.0/8 may use plain http without being configured as insecure. */
export function isLocalRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, "");
  return host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Turns a failed connection into an error that names the registry and says what to try. */
export function connectionError(err: unknown, req: RegistryRequest): RegistryError {
  const code = errorCode(err);
  const where = { registry: req.registry, repository: req.repository, cause: err };
  if (certCodes.test(code)) {
    return new RegistryError("REGISTRY_TLS", `TLS certificate of registry ${req.registry} is not trusted (${code})`, {
      ...where,
      hint: `pass the registry's CA certificate with --ca-file (or SSL_CERT_FILE), or add ${req.registry} to --insecure-registry`,
    });
  }
  if (isTlsProtocolError(err)) {
    return new RegistryError("REGISTRY_TLS", `TLS handshake with registry ${req.registry} failed (${code})`, {
      ...where,
      hint: `if ${req.registry} serves plain http, add it to --insecure-registry`,
    });
  }
  const reason = code || (err instanceof Error ? err.message : String(err));
  return new RegistryError("REGISTRY_UNREACHABLE", `cannot reach registry ${req.registry}${req.repository ? ` (repository ${req.repository})` : ""}: ${reason}`, {
    ...where,
    retriable: networkCodes.has(code),
    hint: `check that the registry is running and that ${req.registry} is the right host and port` +
      // A TLS 1.3 server that wants a client certificate just closes the connection.
      (code === "UND_ERR_SOCKET" ? `; if it requires a client certificate, put client.cert and client.key in /etc/docker/certs.d/${req.registry}/ (or the directory given as certsDir)` : ""),
  });
}

/**
 * The bottom of the stack: picks http or https per registry and sends one request with undici.
 * Local and insecure registries try https first and fall back to http when the server does not speak TLS.
 */
export function createTransport(options: TransportOptions = {}): Transport {
  const env = options.env ?? process.env;
  const insecure = new Set(options.insecureRegistries ?? []);
  const caFiles = [options.caFile, env.SSL_CERT_FILE].filter((f): f is string => Boolean(f));
  const ca = caFiles.length ? [...rootCertificates, ...caFiles.map((f) => readFileSync(f, "utf8"))] : undefined;
  const proxies = proxySettings(env);
  const certsDir = options.certsDir ?? "/etc/docker/certs.d";
  const certsByHost = new Map<string, ReturnType<typeof readCertsDir>>();
  const dispatchers = new Map<string, Dispatcher>();
  const origins = new Map<string, string>();

  // Docker's certs.d: <dir>/<host:port>/*.crt are CAs, *.cert + *.key client certificates. Read once per host.
  const hostCerts = (host: string): ReturnType<typeof readCertsDir> => {
    if (!certsByHost.has(host)) certsByHost.set(host, readCertsDir(join(certsDir, host)));
    return certsByHost.get(host);
  };

  // One dispatcher per (proxy, TLS settings), so connections are reused across requests.
  const dispatcherFor = (undici: Undici, url: URL): Dispatcher => {
    const proxy = proxyFor(url, proxies);
    const certs = url.protocol === "https:" && !insecure.has(url.host) ? hostCerts(url.host) : undefined;
    const tlsKind = url.protocol !== "https:" ? "plain" : insecure.has(url.host) ? "unverified" : certs ? `host ${url.host}` : "verified";
    const key = `${proxy ?? "direct"} ${tlsKind}`;
    let dispatcher = dispatchers.get(key);
    if (!dispatcher) {
      const tls: ConnectionOptions =
        tlsKind === "unverified" ? { rejectUnauthorized: false }
        : certs ? { ca: [...(ca ?? rootCertificates), ...certs.ca], cert: certs.cert, key: certs.key }
        : ca ? { ca } : {};
      dispatcher = proxy
        ? new undici.ProxyAgent({ uri: proxy, requestTls: tls, keepAliveTimeout: 10_000 })
        : new undici.Agent({ connect: tls, keepAliveTimeout: 10_000 });
      dispatchers.set(key, dispatcher);
    }
    return dispatcher;
  };

  async function send(url: URL, req: RegistryRequest): Promise<RegistryResponse> {
    const undici = await loadUndici();
    const res = await undici.request(url, {
      method: req.method,
      headers: req.headers,
      body: req.body?.() ?? null,
      dispatcher: dispatcherFor(undici, url),
      signal: req.signal,
    });
    return { status: res.statusCode, headers: res.headers, body: res.body, url: url.href };
  }

  // Like Docker's ping: learns the scheme once per registry; failures are not remembered.
  async function originOf(req: RegistryRequest): Promise<string> {
    const known = origins.get(req.registry);
    if (known) return known;
    const host = hostOf(req.registry);
    let origin = `https://${host}`;
    if (insecure.has(req.registry) || isLocalRegistry(req.registry)) {
      try {
        const res = await send(new URL(`${origin}/v2/`), { method: "GET", registry: req.registry, path: "/v2/", signal: req.signal });
        res.body.resume();
      } catch (err) {
        if (!isTlsProtocolError(err) && errorCode(err) !== "ECONNRESET") throw err;
        origin = `http://${host}`;
      }
    }
    origins.set(req.registry, origin);
    return origin;
  }

  const dispatch: Dispatch = async (req) => {
    try {
      const url = /^https?:\/\//.test(req.path) ? new URL(req.path) : new URL(req.path, await originOf(req));
      return await send(url, req);
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason ?? err;
      // Anything else (a local body stream failing, say) is not the registry's fault: passed on as is.
      const code = errorCode(err);
      if (networkCodes.has(code) || code.startsWith("UND_ERR") || certCodes.test(code) || isTlsProtocolError(err)) throw connectionError(err, req);
      throw err;
    }
  };

  return {
    dispatch,
    async close() {
      await Promise.all([...dispatchers.values()].map((d) => d.close()));
    },
  };
}

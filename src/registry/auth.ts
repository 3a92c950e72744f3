import { discard, header, readBody, type Dispatch, type RegistryRequest, type RegistryResponse } from "./dispatch.js";
import { RegistryError } from "./errors.js";
import type { RegistryEvent } from "./events.js";
import type { Credentials } from "./credentials.js";

export interface Challenge {
  scheme: "basic" | "bearer";
  params: Record<string, string>;
}

/** Parses `WWW-Authenticate: Bearer realm="…",service="…",scope="repository:a:pull,push"`. */
export function parseChallenge(value: string | undefined): Challenge | undefined {
  const match = value && /^\s*(Basic|Bearer)\b(.*)$/i.exec(value);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  for (const m of match[2]!.matchAll(/([a-zA-Z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3]!;
  }
  return { scheme: match[1]!.toLowerCase() as Challenge["scheme"], params };
}

export interface AuthOptions {
  credentialsFor: (registry: string) => Promise<Credentials | undefined>;
  /** Sends the token request (realm URL): the transport with retries, without this wrapper. */
  tokenDispatch: Dispatch;
  onEvent?: ((e: RegistryEvent) => void) | undefined;
}

interface CachedToken {
  token: string;
  renewAt: number;
}

function basic(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
}

/**
 * Answers 401s: Basic with the registry's credentials, or Docker token auth (a token per set of scopes
 * from the challenge's realm, cached until shortly before it expires). Once a registry has challenged,
 * later requests carry the answer up front, so a streamed body is sent once, not twice.
 */
export function withAuth(next: Dispatch, options: AuthOptions): Dispatch {
  const challenges = new Map<string, Challenge>();
  const tokens = new Map<string, CachedToken>();
  const pending = new Map<string, Promise<CachedToken>>();

  const scopesOf = (req: RegistryRequest, challenge: Challenge): string[] =>
    [...new Set([...(req.scopes ?? []), ...(challenge.params.scope ? [challenge.params.scope] : [])])].sort();

  async function requestToken(req: RegistryRequest, challenge: Challenge, scopes: string[]): Promise<CachedToken> {
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryError("REGISTRY_PROTOCOL", `registry ${req.registry} asked for a token without a realm`, { registry: req.registry });
    const url = new URL(realm);
    const credentials = await options.credentialsFor(req.registry);
    const sent = { registry: url.host, repository: req.repository, signal: req.signal };
    let res: RegistryResponse;
    if (credentials?.identityToken) {
      // An identity token is an OAuth2 refresh token: POSTed as a form, as docker/distribution's client does.
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: credentials.identityToken, client_id: "build-image", service: challenge.params.service ?? "", scope: scopes.join(" ") });
      const body = Buffer.from(form.toString());
      res = await options.tokenDispatch({ ...sent, method: "POST", path: url.href, headers: { "content-type": "application/x-www-form-urlencoded", "content-length": String(body.length) }, body: () => body });
    } else {
      if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
      for (const scope of scopes) url.searchParams.append("scope", scope);
      if (credentials) url.searchParams.set("account", credentials.username);
      res = await options.tokenDispatch({ ...sent, method: "GET", path: url.href, headers: credentials ? { authorization: basic(credentials) } : {} });
    }
    if (res.status === 401 || res.status === 403) {
      discard(res);
      throw unauthorized(req, credentials !== undefined);
    }
    if (res.status !== 200) {
      discard(res);
      throw new RegistryError("REGISTRY_PROTOCOL", `token service of ${req.registry} answered HTTP ${res.status}`, { registry: req.registry, status: res.status });
    }
    const body = JSON.parse((await readBody(res)).toString("utf8")) as { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError("REGISTRY_PROTOCOL", `token service of ${req.registry} returned no token`, { registry: req.registry });
    const lifetimeMs = (body.expires_in ?? 60) * 1000;
    const issued = body.issued_at ? Date.parse(body.issued_at) : Date.now();
    options.onEvent?.({ type: "token", registry: req.registry, scopes });
    // Renew a little early: 10% of the lifetime, at most 10 s.
    return { token, renewAt: (Number.isNaN(issued) ? Date.now() : issued) + lifetimeMs - Math.min(10_000, lifetimeMs / 10) };
  }

  async function tokenFor(req: RegistryRequest, challenge: Challenge, fresh: boolean): Promise<string> {
    const scopes = scopesOf(req, challenge);
    const key = `${req.registry} ${scopes.join(" ")}`;
    const cached = tokens.get(key);
    if (cached && !fresh && Date.now() < cached.renewAt) return cached.token;
    let inFlight = pending.get(key);
    if (!inFlight) {
      inFlight = requestToken(req, challenge, scopes).finally(() => pending.delete(key));
      pending.set(key, inFlight);
    }
    const got = await inFlight;
    tokens.set(key, got);
    return got.token;
  }

  async function authorization(req: RegistryRequest, challenge: Challenge, fresh: boolean): Promise<string | undefined> {
    if (challenge.scheme === "bearer") return `Bearer ${await tokenFor(req, challenge, fresh)}`;
    const credentials = await options.credentialsFor(req.registry);
    return credentials && !credentials.identityToken ? basic(credentials) : undefined;
  }

  const send = async (req: RegistryRequest, value: string | undefined): Promise<RegistryResponse> =>
    next(value ? { ...req, headers: { ...req.headers, authorization: value } } : req);

  return async (req) => {
    const known = challenges.get(req.registry);
    const first = await send(req, known && (await authorization(req, known, false)));
    if (first.status !== 401) return first;
    const challenge = parseChallenge(header(first, "www-authenticate"));
    if (!challenge) return first;
    // Remembered without its scope: that belongs to this request, not to the next ones.
    const { scope: _scope, ...params } = challenge.params;
    challenges.set(req.registry, { scheme: challenge.scheme, params });
    // Only a token that was sent and refused is stale; one fetched meanwhile by a parallel request is good.
    const value = await authorization(req, challenge, known !== undefined);
    if (!value || req.once) return first;
    discard(first);
    return send(req, value);
  };
}

export function unauthorized(req: { registry: string; repository?: string | undefined }, hadCredentials: boolean): RegistryError {
  const target = req.repository ? `${req.registry}/${req.repository}` : req.registry;
  return new RegistryError(
    "REGISTRY_UNAUTHORIZED",
    hadCredentials ? `registry ${req.registry} rejected the credentials for ${target}` : `registry ${req.registry} requires authentication for ${target}`,
    {
      registry: req.registry,
      repository: req.repository,
      status: 401,
      hint: hadCredentials
        ? `check the username and password, then run "build-image login ${req.registry}" again`
        : `run "build-image login ${req.registry}", or set REGISTRY_AUTH_FILE to an auth file with credentials for it`,
    },
  );
}

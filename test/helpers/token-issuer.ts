// A Docker token service for tests (the protocol of distribution's docs/spec/auth/token.md): checks Basic
// credentials, grants the scopes asked for, and signs RS256 JWTs whose x5c header carries the signing
// certificate, which the registry trusts through `rootcertbundle`.
import { execFileSync } from "node:child_process";
import { createPrivateKey, randomBytes, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

export interface TokenIssuer {
  /** The realm to configure in the registry. */
  realm: string;
  service: string;
  issuer: string;
  /** An OAuth2 refresh token the issuer accepts (POST grant_type=refresh_token), as an identity token. */
  refreshToken: string;
  /** PEM of the signing certificate: the registry's rootcertbundle. */
  certFile: string;
  /** Every token issued so far, with the scopes asked for: to count requests and to search logs for them. */
  issued: { token: string; scopes: string[] }[];
  /** Token lifetime in seconds handed out from now on. */
  setExpiresIn(seconds: number): void;
  stop(): Promise<void>;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString("base64url");

export async function startTokenIssuer(options: { dir: string; username: string; password: string; service?: string }): Promise<TokenIssuer> {
  const keyFile = join(options.dir, "token.key");
  const certFile = join(options.dir, "token.crt");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "2", "-subj", "/CN=test token issuer"], { stdio: "ignore" });
  const key = createPrivateKey(readFileSync(keyFile));
  const certDer = Buffer.from(readFileSync(certFile, "utf8").replace(/-----[^-]+-----|\s/g, ""), "base64");
  const service = options.service ?? "test-registry";
  const issuer = "test-token-issuer";
  const issued: TokenIssuer["issued"] = [];
  let expiresIn = 300;

  const refreshToken = randomBytes(16).toString("hex");
  const expected = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString("base64")}`;

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    let form = url.searchParams;
    if (req.method === "POST") {
      let body = "";
      for await (const chunk of req) body += chunk;
      form = new URLSearchParams(body);
    }
    const allowed = req.method === "POST"
      ? form.get("grant_type") === "refresh_token" && form.get("refresh_token") === refreshToken
      : req.headers.authorization === expected;
    if (url.pathname !== "/token" || !allowed) {
      res.writeHead(401, { "content-type": "application/json" }).end('{"details":"bad credentials"}');
      return;
    }
    const scopes = req.method === "POST" ? (form.get("scope") ?? "").split(" ").filter(Boolean) : form.getAll("scope");
    const access = scopes.map((scope) => {
      const [type, ...rest] = scope.split(":");
      const actions = rest.pop()!.split(",");
      return { type, name: rest.join(":"), actions };
    });
    const now = Math.floor(Date.now() / 1000);
    const head = b64url(JSON.stringify({ alg: "RS256", typ: "JWT", x5c: [certDer.toString("base64")] }));
    const claims = b64url(JSON.stringify({
      iss: issuer, sub: options.username, aud: form.get("service"), exp: now + expiresIn, nbf: now - 10, iat: now,
      jti: randomBytes(8).toString("hex"), access,
    }));
    const token = `${head}.${claims}.${b64url(sign("sha256", Buffer.from(`${head}.${claims}`), key))}`;
    issued.push({ token, scopes });
    // The OAuth2 answer names it access_token; the Docker one token.
    const answer = req.method === "POST" ? { access_token: token, expires_in: expiresIn } : { token, expires_in: expiresIn, issued_at: new Date().toISOString() };
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    refreshToken,
    certFile,
    issued,
    setExpiresIn: (seconds) => void (expiresIn = seconds),
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

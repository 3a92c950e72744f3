import { isIPv4 } from "node:net";

/** HTTP(S)_PROXY and NO_PROXY, read as Go's net/http (and so Docker) reads them. */
export interface ProxySettings {
  httpProxy: string | undefined;
  httpsProxy: string | undefined;
  noProxy: string[];
}

export function proxySettings(env: NodeJS.ProcessEnv): ProxySettings | undefined {
  const pick = (name: string): string | undefined => env[name] || env[name.toLowerCase()] || undefined;
  const httpProxy = pick("HTTP_PROXY");
  const httpsProxy = pick("HTTPS_PROXY");
  if (!httpProxy && !httpsProxy) return undefined;
  const noProxy = (pick("NO_PROXY") ?? "").split(",").map((e) => e.trim().toLowerCase()).filter(Boolean);
  return { httpProxy, httpsProxy, noProxy };
}

function ipv4ToNumber(ip: string): number {
  return ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split("/") as [string, string];
  if (!isIPv4(ip) || !isIPv4(base)) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4ToNumber(ip) / size) === Math.floor(ipv4ToNumber(base) / size);
}

/**
 * The proxy URL for `url`, or undefined to connect directly. As Go: https uses only HTTPS_PROXY; loopback
 * is never proxied; NO_PROXY entries are `*`, host names (matching subdomains too, with or without a
 * leading dot), `host:port`, IPs and IPv4 CIDRs.
 */
export function proxyFor(url: URL, settings: ProxySettings | undefined): string | undefined {
  if (!settings) return undefined;
  const proxy = url.protocol === "https:" ? settings.httpsProxy : settings.httpProxy;
  if (!proxy) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  if (host === "localhost" || host === "::1" || /^127\./.test(host)) return undefined;
  for (const entry of settings.noProxy) {
    if (entry === "*") return undefined;
    if (entry.includes("/")) {
      if (inCidr(host, entry)) return undefined;
      continue;
    }
    const [name, entryPort] = entry.replace(/^\*?\./, "").split(/:(?=\d+$)/) as [string, string | undefined];
    if (entryPort && entryPort !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return undefined;
  }
  return proxy;
}

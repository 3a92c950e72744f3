// A small HTTP proxy in front of a test registry that can misbehave on purpose: corrupt, cut off or
// refuse responses, to test what the client does with a bad network or a lying server.
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";

export type Fault =
  | { kind: "pass" }
  /** Flips one byte in the middle of the body (same length). */
  | { kind: "corrupt" }
  /** Sends the headers and half the body, then drops the connection. */
  | { kind: "cut" }
  /** Answers this status itself, with optional headers. */
  | { kind: "status"; status: number; headers?: Record<string, string> }
  /** Forwards without the Range header, as a registry that ignores ranges. */
  | { kind: "no-range" }
  /** Forwards half the request body, then drops both connections (an upload cut off midway). */
  | { kind: "cut-request" };

export interface ProxyRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
}

export interface RegistryProxy {
  host: string;
  /** Every request seen, in order. */
  requests: ProxyRequest[];
  stop(): Promise<void>;
}

/** Proxies to `target` (`host:port`, plain http); `decide` picks a fault per request. */
export async function startRegistryProxy(target: string, decide: (req: ProxyRequest) => Fault): Promise<RegistryProxy> {
  const requests: ProxyRequest[] = [];
  const [targetHost, targetPort] = target.split(":") as [string, string];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const seen = { method: req.method ?? "GET", path: req.url ?? "/", headers: req.headers };
    requests.push(seen);
    const fault = decide(seen);
    if (fault.kind === "status") {
      req.resume();
      res.writeHead(fault.status, { "content-length": "0", ...fault.headers }).end();
      return;
    }
    const headers = { ...req.headers };
    if (fault.kind === "no-range") delete headers.range;
    const upstream = request({ host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers }, (up) => {
      if (fault.kind === "pass" || fault.kind === "no-range") {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      up.on("data", (c: Buffer) => chunks.push(c));
      up.on("end", () => {
        const body = Buffer.concat(chunks);
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (fault.kind === "corrupt") {
          if (body.length > 0) body[body.length >> 1] ^= 0xff;
          res.end(body);
        } else {
          res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
        }
      });
    });
    upstream.on("error", () => res.socket?.destroy());
    if (fault.kind !== "cut-request") {
      req.pipe(upstream);
      return;
    }
    const half = Number(req.headers["content-length"] ?? 0) >> 1;
    let sent = 0;
    req.on("data", (chunk: Buffer) => {
      if (sent >= half) return;
      const part = chunk.subarray(0, half - sent);
      sent += part.length;
      upstream.write(part);
      if (sent >= half) setTimeout(() => {
        upstream.destroy();
        res.socket?.destroy();
      }, 50);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export interface ConnectProxy {
  /** `http://127.0.0.1:PORT`, for HTTP(S)_PROXY. */
  url: string;
  /** The `host:port` of every CONNECT, in order. */
  connects: string[];
  stop(): Promise<void>;
}

/** A forward proxy that only tunnels (CONNECT), as corporate proxies do for https. */
export async function startConnectProxy(): Promise<ConnectProxy> {
  const connects: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((_req, res) => res.writeHead(405).end());
  server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
    const target = req.url ?? "";
    connects.push(target);
    const [host, port] = target.split(/:(?=\d+$)/) as [string, string];
    const upstream = connect(Number(port), host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
      s.on("close", () => sockets.delete(s));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connects,
    stop: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

import { setTimeout as sleep } from "node:timers/promises";
import { discard, header, type Dispatch } from "./dispatch.js";
import { isRegistryError } from "./errors.js";
import type { RegistryEvent } from "./events.js";

export interface RetryOptions {
  /** Attempts after the first. Default 4. */
  retries?: number;
  /** The first backoff; doubled each attempt, with jitter. Default 250 ms. */
  minDelayMs?: number;
  /** The longest wait, also for `Retry-After`. Default 10 s. */
  maxDelayMs?: number;
}

export function backoff(attempt: number, options: RetryOptions): number {
  const min = options.minDelayMs ?? 250;
  const delay = min * 2 ** attempt;
  return Math.min(options.maxDelayMs ?? 10_000, delay / 2 + Math.random() * (delay / 2));
}

function retryAfterMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Sends again, with backoff, on 5xx, 429 (honouring `Retry-After`) and dropped or refused connections. */
export function withRetry(next: Dispatch, options: RetryOptions = {}, onEvent?: (e: RegistryEvent) => void): Dispatch {
  const retries = options.retries ?? 4;
  return async (req) => {
    for (let attempt = 0; ; attempt++) {
      let reason: string;
      let delay = backoff(attempt, options);
      try {
        const res = await next(req);
        if ((res.status < 500 && res.status !== 429) || attempt >= retries || req.once) return res;
        discard(res);
        reason = `HTTP ${res.status}`;
        const after = retryAfterMs(header(res, "retry-after"));
        if (after !== undefined) delay = Math.min(options.maxDelayMs ?? 10_000, after);
      } catch (err) {
        if (!isRegistryError(err) || !err.retriable || attempt >= retries || req.once || req.signal?.aborted) throw err;
        reason = (err.cause as { code?: string } | undefined)?.code ?? "connection failed";
      }
      onEvent?.({ type: "retry", registry: req.registry, method: req.method, attempt: attempt + 1, delayMs: Math.round(delay), reason });
      await sleep(delay, undefined, { signal: req.signal });
    }
  };
}

/** Follows redirects of GET and HEAD (blob storage on a CDN), dropping `Authorization` when the host changes. */
export function withRedirects(next: Dispatch, limit = 5): Dispatch {
  return async (req) => {
    let current = req;
    for (let hop = 0; ; hop++) {
      const res = await next(current);
      const location = header(res, "location");
      if (![301, 302, 303, 307, 308].includes(res.status) || !location || (req.method !== "GET" && req.method !== "HEAD") || hop >= limit) return res;
      discard(res);
      const target = new URL(location, res.url);
      const sameHost = target.host === new URL(res.url).host;
      const headers = { ...current.headers };
      if (!sameHost) delete headers.authorization;
      current = { ...current, path: target.href, headers, scopes: sameHost ? current.scopes : [] };
    }
  };
}

import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Node's client for the url's scheme; `ca` trusts a test certificate over https. */
function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; ca?: string },
  onResponse?: Parameters<typeof httpRequest>[2],
) {
  const options = { ...opts, agent: false as const };
  return url.startsWith('https:')
    ? httpsRequest(url, options, onResponse)
    : httpRequest(url, options, onResponse);
}

/** A plain HTTP(S) request on a fresh connection (headers passed exactly as given). */
export function rawRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; ca?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: opts.method ?? 'GET', headers: opts.headers, ca: opts.ca },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Sends a request and destroys the connection after `afterMs`, before the response completes. */
export function abortedRequest(url: string, afterMs: number, ca?: string): Promise<void> {
  return new Promise((resolve) => {
    const req = request(url, { ca });
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.end();
    setTimeout(() => req.destroy(), afterMs);
  });
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 3000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  if (!(await check())) throw new Error(`condition not met within ${timeoutMs} ms`);
}

/**
 * Sends `paths` as GET requests pipelined on one connection (written at
 * once, before any answer) and closes the connection after `closeAfterMs`,
 * whatever has been answered by then.
 */
export function pipelinedRequests(
  url: string,
  paths: string[],
  closeAfterMs: number,
): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
    socket.resume();
    socket.write(paths.map((p) => `GET ${p} HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`).join(''));
    setTimeout(() => socket.destroy(), closeAfterMs);
  });
}

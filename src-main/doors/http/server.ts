/**
 * Browser mode: the renderer and the service API over HTTP + WebSocket on 127.0.0.1.
 *
 * Every API call and events socket must carry the per-launch token: an `Authorization: Bearer` header
 * (the renderer, which takes it from the `?token=` of the URL `fieldpack serve` printed, and scripts) or
 * `?token=` (the WebSocket, which cannot send headers). The renderer's own files (public code, no data)
 * load without it. No cookie holds it: a browser sends a cookie of 127.0.0.1 to every port of that
 * host, so any other local web app's server received it, and a second workbench replaced the first's.
 * The Host header must be the loopback address we bound, which closes DNS-rebinding attacks from other
 * web pages; a request that carries an `Origin` header (browsers send one on every POST and WebSocket
 * upgrade) must come from our own origin; and no page may frame the workbench (clickjacking).
 *
 * Hygiene: a malformed URL or percent-encoding is 400, a body over MAX_BODY is 413, and JSON nested
 * deeper than MAX_JSON_DEPTH is 400 (checked by a flat scan before parsing, so nothing recurses).
 */
import { STATUS_CODES, createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { serializeError, FieldpackError, type ErrorCode } from '../../core/errors.ts';
import { dispatch } from '../../services/services.ts';
import type { AppContext } from '../../services/app-context.ts';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};
/** Sent with every response: no framing by another page, no type sniffing, no referrer (a first URL holds the token). */
const SECURITY_HEADERS: Record<string, string> = {
  'x-frame-options': 'DENY',
  'content-security-policy': "frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};
/** Largest API request body (bytes); larger ones are answered 413. */
export const MAX_BODY = 16 * 1024 * 1024;
/** Deepest nesting of objects and arrays in an API request body. */
export const MAX_JSON_DEPTH = 64;

/** A refusal with its own HTTP status (the body is still the usual {error: {code, message}}). */
class HttpError extends FieldpackError {
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}

/**
 * The request target as a URL with its decoded path. Only origin-form targets ("/path?query") are
 * served; anything unparsable, with malformed percent-encoding or a NUL byte in the path is 400.
 */
function parseTarget(raw: string | undefined): { url: URL; path: string } {
  const target = raw ?? '/';
  if (!target.startsWith('/')) throw new HttpError(400, 'INVALID_ARGUMENT', 'malformed request URL: expected a path starting with "/"');
  let url: URL;
  try {
    // Prefixing (rather than resolving against a base) keeps "//host/x" a path, not another host.
    url = new URL(`http://local${target}`);
  } catch {
    throw new HttpError(400, 'INVALID_ARGUMENT', 'malformed request URL');
  }
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    throw new HttpError(400, 'INVALID_ARGUMENT', 'malformed percent-encoding in the request URL');
  }
  if (path.includes('\0')) throw new HttpError(400, 'INVALID_ARGUMENT', 'malformed request URL: NUL in the path');
  return { url, path };
}

/** True when `text` (JSON or not) opens more than `max` objects/arrays at once; one flat pass, no recursion. */
export function jsonNestsDeeper(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

export interface HttpDoorOptions {
  app: AppContext;
  /** Folder with the built renderer (index.html + assets). */
  rendererDir: string;
  port?: number;
  host?: string;
  /** Fixed token (tests); random 32 bytes hex otherwise. */
  token?: string;
}

export interface HttpDoor {
  server: Server;
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

function tokenFrom(req: IncomingMessage, url: URL): string | null {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  return url.searchParams.get('token') || null;
}

function sameToken(a: string | null, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(text);
}

function tooLarge(): HttpError {
  return new HttpError(413, 'INVALID_ARGUMENT', `request body over ${MAX_BODY} bytes (${MAX_BODY / 1024 / 1024} MiB): give large data as a file path instead`);
}

/** The body as text, refused (413) past MAX_BODY: at once when Content-Length says so, else once that many bytes came. */
function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    let size = 0;
    let over = false;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      if (over) return; // drained and dropped; the 413 is already on its way
      size += c.length;
      if (size > MAX_BODY) {
        over = true;
        chunks.length = 0;
        reject(tooLarge());
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (!over) {
        // bytes that are not UTF-8 are refused, not turned into U+FFFD (a name stored so was not the one sent)
        try {
          resolve(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks)));
        } catch {
          reject(new HttpError(400, 'INVALID_ARGUMENT', 'the request body is not UTF-8 text'));
        }
      }
    });
    req.on('error', reject);
  });
}

/** The API input: {} for an empty body; 400 for JSON nested deeper than MAX_JSON_DEPTH or not JSON. */
function parseInput(body: string): unknown {
  if (!body) return {};
  if (jsonNestsDeeper(body, MAX_JSON_DEPTH)) {
    throw new HttpError(400, 'INVALID_ARGUMENT', `request body nests objects/arrays deeper than ${MAX_JSON_DEPTH} levels`);
  }
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new HttpError(400, 'INVALID_ARGUMENT', 'request body is not JSON');
  }
}

/** A refusal written straight onto the socket of an upgrade request (no ServerResponse there). */
function refuseUpgrade(socket: Duplex, status: number, code: ErrorCode, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  const reason = STATUS_CODES[status] ?? 'Error';
  socket.on('error', () => undefined);
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`, () => socket.destroy());
}

/** How long closing the door waits for cancelled calls to remove their files. */
const CLOSE_WAIT_MS = 15_000;

export function startHttpDoor(opts: HttpDoorOptions): Promise<HttpDoor> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? randomBytes(24).toString('hex');
  const { app } = opts;
  let port = 0;
  const allowedHosts = () => new Set([`${host}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]);

  const allowedOrigins = () => new Set([...allowedHosts()].map((h) => `http://${h}`));
  const hostProblem = (req: IncomingMessage): string | null => (allowedHosts().has(req.headers.host ?? '') ? null : 'unexpected Host header');
  /** Another page's request (a browser sends one to any 127.0.0.1 port): refused whatever its token. */
  const originProblem = (req: IncomingMessage): string | null => {
    const origin = req.headers.origin;
    if (origin === undefined || allowedOrigins().has(origin.toLowerCase())) return null;
    return `requests from another origin (${origin.slice(0, 200)}) are refused: only the workbench page served at http://${host}:${port} may call this server`;
  };
  const TOKEN_HELP = 'missing or wrong token: open the URL that `fieldpack serve` printed (it ends in ?token=...)';

  /** API calls still running: closing the door cancels them and waits (a while) for their clean-up */
  const inFlight = new Set<{ call: AbortController; settled: Promise<void> }>();
  const server = createServer(async (req, res) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    try {
      // a refused request's connection is closed, its body unread (one declaring gigabytes held it until Node's timeout)
      const refuse = (status: number, message: string) => {
        res.setHeader('connection', 'close');
        sendJson(res, status, { error: { code: 'UNAUTHORIZED', message } });
      };
      const hostBad = hostProblem(req);
      if (hostBad) return refuse(403, hostBad);
      const originBad = originProblem(req);
      if (originBad) return refuse(403, originBad);
      const { url, path } = parseTarget(req.url);
      if (path.startsWith('/api/')) {
        if (!sameToken(tokenFrom(req, url), token)) return refuse(401, TOKEN_HELP);
        if (req.method !== 'POST') return sendJson(res, 405, { error: { code: 'INVALID_ARGUMENT', message: 'API calls are POST' } });
        const method = path.slice('/api/'.length);
        const input = parseInput(await readBody(req));
        // a client that goes away, or the door closing, cancels the call (a bench, an export: its files removed)
        const call = new AbortController();
        const onGone = () => {
          if (!res.writableEnded) call.abort();
        };
        res.on('close', onGone);
        const running = dispatch(app.services, method, input, { signal: call.signal });
        const entry = { call, settled: running.then(() => undefined, () => undefined) };
        inFlight.add(entry);
        try {
          return sendJson(res, 200, { value: await running });
        } finally {
          inFlight.delete(entry);
          res.off('close', onGone);
        }
      }
      // The renderer: static files; unknown paths fall back to index.html (client-side routes). Read only.
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: { code: 'INVALID_ARGUMENT', message: `the workbench's files are read with GET, not ${req.method}` } });
      const rel = normalize(path).replace(/^([/\\])+/, '');
      let file = join(opts.rendererDir, rel);
      if (!file.startsWith(opts.rendererDir + sep) && file !== opts.rendererDir) return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'not found' } });
      if (!existsSync(file) || statSync(file).isDirectory()) file = join(opts.rendererDir, 'index.html');
      if (!existsSync(file)) return sendJson(res, 500, { error: { code: 'INTERNAL', message: `renderer not built: ${file} is missing (run npm run build)` } });
      res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
      createReadStream(file).pipe(res);
    } catch (err) {
      const e = serializeError(err);
      const status = err instanceof HttpError ? err.status : e.code === 'NOT_FOUND' ? 404 : e.code === 'INTERNAL' ? 500 : 400;
      if (res.headersSent) return void res.destroy();
      // Past a refused body the connection is not reused (the rest of the body is not read).
      if (status === 413) res.setHeader('connection', 'close');
      sendJson(res, status, { error: e });
    }
  });

  // /events only sends: a client's message is never read, so it may be small (ws would take 100 MiB by default)
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const sockets = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    try {
      const hostBad = hostProblem(req);
      if (hostBad) return refuseUpgrade(socket, 403, 'UNAUTHORIZED', hostBad);
      const originBad = originProblem(req);
      if (originBad) return refuseUpgrade(socket, 403, 'UNAUTHORIZED', originBad);
      const { url, path } = parseTarget(req.url);
      if (!sameToken(tokenFrom(req, url), token)) return refuseUpgrade(socket, 401, 'UNAUTHORIZED', TOKEN_HELP);
      if (path !== '/events') return refuseUpgrade(socket, 404, 'NOT_FOUND', 'the WebSocket endpoint is /events');
      wss.handleUpgrade(req, socket, head, (ws) => {
        sockets.add(ws);
        ws.on('close', () => sockets.delete(ws));
        // a message past maxPayload, a broken frame: ws closes the socket and emits an error, which unhandled would
        // end the process
        ws.on('error', () => ws.terminate());
      });
    } catch (err) {
      const e = serializeError(err);
      refuseUpgrade(socket, err instanceof HttpError ? err.status : 400, e.code, e.message);
    }
  });
  const unsubscribe = app.events.on((event) => {
    const text = JSON.stringify(event);
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      const addr = server.address();
      port = typeof addr === 'object' && addr ? addr.port : 0;
      server.off('error', reject);
      resolve({
        server,
        token,
        port,
        url: `http://${host}:${port}/?token=${token}`,
        close: async () => {
          const calls = [...inFlight];
          for (const c of calls) c.call.abort();
          await Promise.race([Promise.all(calls.map((c) => c.settled)), new Promise((wake) => setTimeout(wake, CLOSE_WAIT_MS).unref())]);
          await new Promise<void>((done) => {
            unsubscribe();
            for (const ws of sockets) ws.terminate();
            wss.close();
            server.closeAllConnections();
            server.close(() => done());
          });
        },
      });
    });
  });
}

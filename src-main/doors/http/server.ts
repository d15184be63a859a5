/**
 * Browser mode: the renderer and the service API over HTTP + WebSocket on 127.0.0.1.
 *
 * Every request must carry the per-launch token: `?token=` on the first page load (which sets an
 * HttpOnly same-site cookie so that the page's own assets load), the cookie, or an
 * `Authorization: Bearer` header (scripts). The Host header must be the loopback address we bound,
 * which closes DNS-rebinding attacks from other web pages.
 */
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { serializeError, FieldpackError } from '../../core/errors.ts';
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
const COOKIE = 'fieldpack_token';
const MAX_BODY = 16 * 1024 * 1024;

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
  const q = url.searchParams.get('token');
  if (q) return q;
  const cookie = req.headers.cookie ?? '';
  for (const part of cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return decodeURIComponent(v.join('='));
  }
  return null;
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

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new FieldpackError('INVALID_ARGUMENT', `request body over ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function startHttpDoor(opts: HttpDoorOptions): Promise<HttpDoor> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? randomBytes(24).toString('hex');
  const { app } = opts;
  let port = 0;
  const allowedHosts = () => new Set([`${host}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]);

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    try {
      if (!allowedHosts().has(req.headers.host ?? '')) return sendJson(res, 403, { error: { code: 'UNAUTHORIZED', message: 'unexpected Host header' } });
      const given = tokenFrom(req, url);
      if (!sameToken(given, token)) {
        return sendJson(res, 401, { error: { code: 'UNAUTHORIZED', message: 'missing or wrong token: open the URL that `fieldpack serve` printed (it ends in ?token=...)' } });
      }
      if (url.pathname.startsWith('/api/')) {
        if (req.method !== 'POST') return sendJson(res, 405, { error: { code: 'INVALID_ARGUMENT', message: 'API calls are POST' } });
        const method = decodeURIComponent(url.pathname.slice('/api/'.length));
        let input: unknown = {};
        const body = await readBody(req);
        if (body) {
          try {
            input = JSON.parse(body);
          } catch {
            throw new FieldpackError('INVALID_ARGUMENT', 'request body is not JSON');
          }
        }
        const value = await dispatch(app.services, method, input);
        return sendJson(res, 200, { value });
      }
      // The renderer: static files; unknown paths fall back to index.html (client-side routes).
      const headers: Record<string, string> = {};
      if (url.searchParams.get('token')) headers['set-cookie'] = `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
      const rel = normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, '');
      let file = join(opts.rendererDir, rel);
      if (!file.startsWith(opts.rendererDir + sep) && file !== opts.rendererDir) return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'not found' } });
      if (!existsSync(file) || statSync(file).isDirectory()) file = join(opts.rendererDir, 'index.html');
      if (!existsSync(file)) return sendJson(res, 500, { error: { code: 'INTERNAL', message: `renderer not built: ${file} is missing (run npm run build)` } });
      res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache', ...headers });
      createReadStream(file).pipe(res);
    } catch (err) {
      const e = serializeError(err);
      const status = e.code === 'NOT_FOUND' ? 404 : e.code === 'INTERNAL' ? 500 : 400;
      sendJson(res, status, { error: e });
    }
  });

  const wss = new WebSocketServer({ noServer: true });
  const sockets = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (url.pathname !== '/events' || !allowedHosts().has(req.headers.host ?? '') || !sameToken(tokenFrom(req, url), token)) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
    });
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
        close: () =>
          new Promise<void>((done) => {
            unsubscribe();
            for (const ws of sockets) ws.terminate();
            wss.close();
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

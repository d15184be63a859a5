/**
 * Browser mode's request hygiene (issue 11 item 3), on a real HTTP door on a random port: other
 * origins are refused, no cookie carries the token (a browser sends it to every 127.0.0.1 port), no page may frame
 * the workbench, malformed URLs,
 * huge and deeply nested bodies are client errors, errors never echo a file's content, and the
 * Python setting must name one executable file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { createApp, type AppContext } from '../../../src-main/services/app-context.ts';
import { startHttpDoor, type HttpDoor, MAX_BODY, MAX_JSON_DEPTH, jsonNestsDeeper } from '../../../src-main/doors/http/server.ts';
import { detectPython } from '../../../src-main/services/system/python-env.ts';
import { tempDir } from '../../helpers/tmp.ts';

const tmp = tempDir('fieldpack-http-');
const TOKEN = 'a'.repeat(48);
let app: AppContext;
let door: HttpDoor;
let own: string;
const savedPythonEnv = process.env.FIELDPACK_PYTHON;

beforeAll(async () => {
  delete process.env.FIELDPACK_PYTHON; // the saved setting is what these tests configure
  const rendererDir = join(tmp.dir, 'renderer');
  mkdirSync(rendererDir);
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>Fieldpack</title>');
  app = createApp({ dbPath: join(tmp.dir, 'http.db'), door: 'http' });
  door = await startHttpDoor({ app, rendererDir, token: TOKEN });
  own = `http://127.0.0.1:${door.port}`;
});
afterAll(async () => {
  await door?.close();
  await app?.close();
  tmp.cleanup();
  if (savedPythonEnv === undefined) delete process.env.FIELDPACK_PYTHON;
  else process.env.FIELDPACK_PYTHON = savedPythonEnv;
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: { value?: unknown; error?: { code: string; message: string } };
}

/** One request; `chunked` streams the body without Content-Length. A refusal before the body is sent still answers. */
function send(path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body);
    const headers: Record<string, string> = { ...opts.headers };
    if (body && !opts.chunked) headers['content-length'] = String(body.length);
    let answered = false;
    const req = request({ host: '127.0.0.1', port: door.port, path, method: opts.method ?? 'POST', headers }, (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let json = {};
        try {
          json = JSON.parse(text) as Answer['json'];
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode!, headers: res.headers, text, json });
      });
    });
    // The server may close while a refused body is still being written: the answer counts, not the write.
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    if (body && opts.chunked) {
      const piece = 1024 * 1024;
      let i = 0;
      const more = () => {
        while (i < body.length) {
          const ok = req.write(body.subarray(i, i + piece));
          i += piece;
          if (!ok) return void req.once('drain', more);
        }
        req.end();
      };
      more();
    } else req.end(body);
  });
}

const api = (method: string, input: unknown, headers: Record<string, string> = {}) =>
  send(`/api/${method}`, { headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(input) });
const withToken = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${TOKEN}`, ...extra });

async function projectCount(): Promise<number> {
  return ((await api('projects.list', {}, withToken())).json.value as unknown[]).length;
}

/** A WebSocket upgrade: 'open', or the refusal's status and JSON body. */
function upgrade(origin: string | undefined, path = `/events?token=${TOKEN}`): Promise<{ opened: true } | { opened: false; status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${door.port}${path}`, origin === undefined ? {} : { origin });
    ws.on('open', () => {
      ws.close();
      resolve({ opened: true });
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ opened: false, status: res.statusCode!, body }));
    });
    ws.on('error', (e) => reject(e));
  });
}

describe('Origin', () => {
  it('refuses a POST from another local origin even with the token, and creates nothing', async () => {
    const before = await projectCount();
    for (const origin of ['http://127.0.0.1:9999', 'http://localhost:9999', 'https://example.org', 'null', `https://127.0.0.1:${door.port}`]) {
      const r = await api('projects.create', { name: 'from another page' }, withToken({ origin }));
      expect(r.status, origin).toBe(403);
      expect(r.json.error).toEqual({ code: 'UNAUTHORIZED', message: expect.stringContaining('another origin') });
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
    }
    // With the Bearer token too: the origin decides first.
    expect((await api('projects.create', { name: 'x' }, withToken({ origin: 'http://127.0.0.1:9999' }))).status).toBe(403);
    // Static pages as well.
    expect((await send('/', { method: 'GET', headers: { origin: 'http://127.0.0.1:9999' } })).status).toBe(403);
    expect(await projectCount()).toBe(before);
  });

  it('accepts the server\'s own origin (127.0.0.1 or localhost at its port) and requests without Origin that carry the token', async () => {
    const before = await projectCount();
    const a = await api('projects.create', { name: 'same origin' }, withToken({ origin: own }));
    expect(a.status).toBe(200);
    expect(a.json.value).toMatchObject({ name: 'same origin' });
    const b = await api('projects.create', { name: 'via localhost' }, withToken({ origin: `http://localhost:${door.port}`, host: `localhost:${door.port}` }));
    expect(b.status).toBe(200);
    const c = await api('projects.create', { name: 'curl' }, withToken());
    expect(c.status).toBe(200);
    expect(await projectCount()).toBe(before + 3);
    // Without Origin the token is still needed.
    const none = await api('projects.list', {});
    expect(none.status).toBe(401);
    expect(none.json.error?.code).toBe('UNAUTHORIZED');
    // The page itself loads from our origin (module scripts send Origin).
    expect((await send(`/?token=${TOKEN}`, { method: 'GET', headers: { origin: own } })).status).toBe(200);
  });

  it('keeps the token out of cookies (a browser sends them to every 127.0.0.1 port: other local servers got it), serves the renderer\'s public files without it, and forbids framing', async () => {
    const page = await send(`/?token=${TOKEN}`, { method: 'GET' });
    expect(page.status).toBe(200);
    expect(page.headers['set-cookie']).toBeUndefined();
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['content-security-policy']).toBe("frame-ancestors 'none'");
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    // a lazily loaded view of the page, and a bookmarked route, load without a token; the API never does
    expect((await send('/compress', { method: 'GET' })).status).toBe(200);
    const refused = await api('projects.list', {}, { cookie: `fieldpack_token=${TOKEN}` });
    expect(refused.status).toBe(401);
    expect(refused.headers['x-frame-options']).toBe('DENY');
  });

  it('refuses WebSocket upgrades from another origin, accepts our own and Origin-less clients with the token', async () => {
    const foreign = await upgrade('http://127.0.0.1:9999');
    expect(foreign).toMatchObject({ opened: false, status: 403 });
    expect(JSON.parse((foreign as { body: string }).body)).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.stringContaining('another origin') } });
    expect(await upgrade('https://evil.example')).toMatchObject({ opened: false, status: 403 });
    expect(await upgrade(own)).toEqual({ opened: true });
    expect(await upgrade(`http://localhost:${door.port}`)).toEqual({ opened: true });
    expect(await upgrade(undefined)).toEqual({ opened: true });
    expect(await upgrade(own, '/events')).toMatchObject({ opened: false, status: 401 });
    expect(await upgrade(own, `/elsewhere?token=${TOKEN}`)).toMatchObject({ opened: false, status: 404 });
  });

  it('closes an events socket sent a large message (it is never read; 50 MiB ones were taken), and keeps serving', async () => {
    const code = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${door.port}/events?token=${TOKEN}`, { origin: own });
      ws.on('open', () => ws.send(Buffer.alloc(1 << 20)));
      ws.on('close', (c) => resolve(c));
      ws.on('error', () => {});
      setTimeout(() => reject(new Error('not closed')), 10_000);
    });
    expect(code).toBe(1009); // message too big
    expect(await upgrade(own)).toEqual({ opened: true });
  });
});

describe('malformed requests', () => {
  it('refuses a body that is not UTF-8 and a project name with a line break or control character, storing nothing', async () => {
    const before = await projectCount();
    const bytes = Buffer.concat([Buffer.from('{"name": "'), Buffer.from([0xff, 0xfe]), Buffer.from(' bad"}')]);
    const r = await send('/api/projects.create', { headers: withToken({ 'content-type': 'application/json' }), body: bytes });
    expect(r.status).toBe(400);
    expect(r.json.error?.message).toBe('the request body is not UTF-8 text');
    for (const name of ['two\nlines', 'bell\u0007', 'esc\u001b[31m']) {
      const c = await api('projects.create', { name }, withToken());
      expect(c.status, name).toBe(400);
      expect(c.json.error?.message).toMatch(/no line breaks, tabs or other control characters/);
    }
    expect(await projectCount()).toBe(before);
  });


  it('answers malformed URLs and percent-encoding with 400, and keeps serving', async () => {
    for (const path of ['/api/projects.%E0%A4%A', '/api/%ZZ', '/%E0%A4%A', '/assets/%C0', '/a%00b']) {
      const r = await send(path, { headers: withToken({ origin: own }), body: '{}' });
      expect(r.status, path).toBe(400);
      expect(r.json.error).toEqual({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/malformed/) });
    }
    // An upgrade with a malformed path is refused the same way, and the process lives on.
    const raw = await new Promise<string>((resolve, reject) => {
      const s = connect(door.port, '127.0.0.1', () => {
        s.write(`GET /events%E0?token=${TOKEN} HTTP/1.1\r\nHost: 127.0.0.1:${door.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
      });
      let got = '';
      s.on('data', (d) => (got += d.toString()));
      s.on('close', () => resolve(got));
      s.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(raw).toContain('malformed percent-encoding');
    expect((await api('projects.list', {}, withToken())).status).toBe(200);
  });

  it('closes the connection of a request it refuses, its body unread (one declaring 10 GB was held until Node\'s timeout)', async () => {
    const t0 = Date.now();
    const raw = await new Promise<string>((resolve, reject) => {
      const s = connect(door.port, '127.0.0.1', () => s.write(`POST /api/projects.list HTTP/1.1\r\nHost: 127.0.0.1:${door.port}\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n{`));
      let got = '';
      s.on('data', (d) => (got += d.toString()));
      s.on('close', () => resolve(got));
      s.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 401 /);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('serves the workbench\'s files to GET and HEAD only (a DELETE of /index.html was answered with the file)', async () => {
    expect((await send('/index.html', { method: 'GET', headers: withToken({ origin: own }) })).status).toBe(200);
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const r = await send('/index.html', { method, headers: withToken({ origin: own }), body: '{}' });
      expect(r.status, method).toBe(405);
      expect(r.json.error?.message).toMatch(new RegExp(`read with GET, not ${method}`));
    }
  });

  it('refuses a body over the limit with 413, declared or streamed', async () => {
    const big = Buffer.alloc(MAX_BODY + 1024, 0x20);
    const declared = await send('/api/projects.list', { headers: withToken({ 'content-type': 'application/json' }), body: big });
    expect(declared.status).toBe(413);
    expect(declared.json.error).toEqual({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('request body over') });
    const streamed = await send('/api/projects.list', { headers: withToken({ 'content-type': 'application/json' }), body: big, chunked: true });
    expect(streamed.status).toBe(413);
    expect((await api('projects.list', {}, withToken())).status).toBe(200);
  });

  it('refuses JSON nested deeper than the limit with 400 (no stack overflow); ordinary nesting passes', async () => {
    const deep = `{"name":"deep","description":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const r = await send('/api/projects.create', { headers: withToken({ 'content-type': 'application/json' }), body: deep });
    expect(r.status).toBe(400);
    expect(r.json.error).toEqual({ code: 'INVALID_ARGUMENT', message: `request body nests objects/arrays deeper than ${MAX_JSON_DEPTH} levels` });
    const notJson = await send('/api/projects.list', { headers: withToken(), body: '{nope' });
    expect(notJson).toMatchObject({ status: 400, json: { error: { message: 'request body is not JSON' } } });
    // Brackets inside strings are text, not nesting.
    const ok = await api('projects.create', { name: 'brackets', description: `${'['.repeat(200)}{"\\` }, withToken());
    expect(ok.json.error).toBeUndefined();
    expect(ok.status).toBe(200);
    expect(jsonNestsDeeper(JSON.stringify({ a: [[[{ b: '[[[[' }]]] }), 5)).toBe(false);
    expect(jsonNestsDeeper(JSON.stringify({ a: [[[{ b: '\\"[[[[' }]]] }), 5)).toBe(false);
    expect(jsonNestsDeeper(JSON.stringify({ a: [[[{ b: [1] }]]] }), 5)).toBe(true);
  });
});

describe('errors never echo file content', () => {
  it('data.inspect on a file that is not data names the file and its size, not its bytes', async () => {
    const secret = join(tmp.dir, 'shadow');
    writeFileSync(secret, 'root:$6$S3CR3T-HASH:19000:0:99999:7:::\n');
    const r = await api('data.inspect', { path: secret }, withToken());
    expect(r.status).toBe(400);
    expect(r.json.error?.code).toBe('BAD_FILE');
    expect(r.json.error?.message).toMatch(/not recognised, 39 bytes/);
    const hex = Array.from(Buffer.from('root:$6$'), (b) => b.toString(16).padStart(2, '0')).join(' ');
    for (const leak of ['root', 'S3CR3T', hex, hex.replace(/ /g, ''), Buffer.from('root:$6$').toString('base64')]) expect(r.text).not.toContain(leak);
  });
});

describe('paths that name no regular file', () => {
  it('a named pipe or /dev/zero given where a file is read is refused at once: the server neither waits on the pipe nor fills its memory, and keeps serving', async () => {
    const dir = join(tmp.dir, 'special');
    mkdirSync(join(dir, 'arc'), { recursive: true });
    execFileSync('mkfifo', [join(dir, 'arc', 'manifest.json'), join(dir, 'pipe.fpk'), join(dir, 'x.bin.json')]);
    writeFileSync(join(dir, 'x.bin'), Buffer.alloc(40));
    const calls: [string, unknown, RegExp][] = [
      // a synchronous read of the pipe held the whole server until something wrote to it
      ['archive.list', { archive: join(dir, 'arc') }, /manifest .*arc\/manifest\.json is a named pipe, not a regular file/],
      ['models.import', { path: '/dev/zero' }, /model file \/dev\/zero is a character device, not a regular file/],
      ['streams.inspect', { file: '/dev/zero' }, /\/dev\/zero is a character device, not a regular file/],
      ['streams.inspect', { file: join(dir, 'pipe.fpk') }, /pipe\.fpk is a named pipe, not a regular file/],
      ['data.inspect', { path: join(dir, 'x.bin') }, /sidecar .*x\.bin\.json is a named pipe, not a regular file/],
    ];
    for (const [method, input, said] of calls) {
      const r = await Promise.race([api(method, input, withToken()), new Promise<null>((res) => setTimeout(() => res(null), 10_000))]);
      expect(r, `${method} did not answer`).not.toBeNull();
      expect(r!.status, method).toBe(400);
      expect(r!.json.error?.message, method).toMatch(said);
    }
    expect((await api('projects.list', {}, withToken())).status).toBe(200);
  });

  it('an archive file that is not JSON is said to be damaged, without quoting it (a manifest linked to /etc/shadow showed its first bytes)', async () => {
    const arc = join(tmp.dir, 'leaky');
    mkdirSync(arc);
    writeFileSync(join(arc, 'manifest.json'), 'root:$6$S3CR3T-HASH:19000\n');
    const r = await api('archive.list', { archive: arc }, withToken());
    expect(r.json.error?.message).toMatch(/manifest\.json: not JSON: the archive's manifest is damaged/);
    for (const leak of ['root', 'S3CR3T']) expect(r.text).not.toContain(leak);
  });
});

describe('settings.pythonPath', () => {
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : process.execPath;
  const update = (pythonPath: string | null) => api('settings.update', { pythonPath }, withToken({ origin: own }));

  it('refuses command lines, missing, relative, non-executable paths and folders, naming the problem', async () => {
    const cases: [string, RegExp][] = [
      ['/bin/sh -c id', /"\/bin\/sh -c id" does not exist \(it must be the path of one executable: arguments such as "-c id" are not accepted, and no shell runs it\)/],
      [join(tmp.dir, 'no-such-python'), /no-such-python" does not exist/],
      ['bin/python3', /relative path/],
      ['no-such-python-on-path-xyz', /was not found on PATH/],
      ['python3 -c "import os"', /not found on PATH.*arguments/],
      [tmp.dir, /is a folder/],
      ['', /is empty/],
      [' /usr/bin/python3', /leading or trailing spaces/],
    ];
    const plain = join(tmp.dir, 'not-executable');
    writeFileSync(plain, '#!/bin/sh\n');
    chmodSync(plain, 0o644);
    if (process.platform !== 'win32' && process.getuid?.() !== 0) cases.push([plain, /is not executable/]);
    for (const [value, why] of cases) {
      const r = await update(value);
      expect(r.status, value).toBe(400);
      expect(r.json.error?.code, value).toBe('INVALID_ARGUMENT');
      expect(r.json.error?.message, value).toMatch(why);
    }
    expect((await api('settings.get', {}, withToken())).json.value).toMatchObject({ pythonPath: null });
  });

  it('accepts an executable by absolute path or on PATH, and null (auto-detect)', async () => {
    expect((await update(python)).json.value).toMatchObject({ pythonPath: python });
    expect((await update('sh')).json.value).toMatchObject({ pythonPath: 'sh' });
    expect((await update(null)).json.value).toMatchObject({ pythonPath: null });
  });

  it('a misspelt setting is refused by name, not ignored as if it had been saved', async () => {
    const r = await api('settings.update', { pythonpath: '/usr/bin/python3' }, withToken({ origin: own }));
    expect(r.status).toBe(400);
    expect(r.json.error?.message).toMatch(/pythonpath/);
  });

  it('a saved interpreter that disappears is reported as that problem by the doctor, training.python and training, never replaced', async () => {
    const bin = join(tmp.dir, 'venv', 'bin');
    mkdirSync(bin, { recursive: true });
    const gone = join(bin, 'python');
    writeFileSync(gone, `#!/bin/sh\nexec ${python} "$@"\n`);
    chmodSync(gone, 0o755);
    expect((await update(gone)).status).toBe(200);
    rmSync(join(tmp.dir, 'venv'), { recursive: true });

    const doctor = (await api('system.doctor', {}, withToken())).json.value as { python: { interpreter: string | null; problem: string | null; torchVersion: string | null } };
    expect(doctor.python.interpreter).toBe(gone);
    expect(doctor.python.torchVersion).toBeNull();
    expect(doctor.python.problem).toContain(`the configured Python ${gone} does not exist`);
    expect(doctor.python.problem).toContain('no other interpreter is used in its place');

    const report = (await api('training.python', { refresh: true }, withToken())).json.value as { ok: boolean; interpreter: string | null; configured: string; problem: string; tried: { interpreter: string }[] };
    expect(report).toMatchObject({ ok: false, interpreter: null, configured: gone });
    expect(report.tried.map((t) => t.interpreter)).toEqual([gone]);
    expect(report.problem).toContain(`configured Python ${gone} does not exist`);

    // What a train job does with the setting (fallback on): PYTHON_MISSING naming it, no other Python.
    await expect(detectPython({ python: gone, fallback: true })).rejects.toMatchObject({ code: 'PYTHON_MISSING', message: expect.stringContaining(`The configured Python ${gone} does not exist`) });
    expect((await update(null)).status).toBe(200);
  });
});

describe('a long call whose client goes away', () => {
  it('is cancelled: bench.large stops and removes its folder once the request is dropped', async () => {
    const parent = join(tmp.dir, 'large');
    mkdirSync(parent);
    const body = JSON.stringify({ size: '256MiB', dir: parent });
    const req = request({ host: '127.0.0.1', port: door.port, path: '/api/bench.large', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...withToken() } });
    req.on('error', () => undefined);
    req.end(body);
    // the call has started once its folder is there; then the client leaves
    await expect.poll(() => readdirSync(parent).length, { timeout: 20_000, interval: 20 }).toBe(1);
    req.destroy();
    await expect.poll(() => readdirSync(parent).length, { timeout: 30_000 }).toBe(0);
    // and the door still serves
    expect((await api('projects.list', {}, withToken())).status).toBe(200);
  });
});

// `npm run demo`: build the page and serve it on 127.0.0.1 with COOP/COEP headers, so the page is cross-origin
// isolated (SharedArrayBuffer → the wasm kernels can run on worker threads). Options: --port N (default 8787; a
// free port if that one is taken), --no-build (serve demo/dist as it is).
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildDemo, DEFAULT_OUT } from './build.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.json': 'application/json',
};

/** Headers that make the page cross-origin isolated (window.crossOriginIsolated === true). */
const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export interface DemoServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Serve the files of `dir` (GET/HEAD only, no directory listing, nothing outside `dir`) on `host:port`; port 0 picks a
 * free port, and a taken port falls back to a free one.
 * @example const s = await startDemoServer({ dir: await buildDemo(), port: 0 }); console.log(s.url); await s.close();
 */
export async function startDemoServer(options: { dir?: string; port?: number; host?: string } = {}): Promise<DemoServer> {
  const dir = options.dir ?? DEFAULT_OUT;
  const host = options.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(dir, path.endsWith('/') ? `${path}index.html` : path));
    const inside = file.startsWith(normalize(dir) + sep);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, ISOLATION).end();
    } else if (!inside || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { ...ISOLATION, 'Content-Type': 'text/plain' }).end('not found');
    } else {
      res.writeHead(200, { ...ISOLATION, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
    }
  });
  let port: number;
  try {
    port = await listen(server, options.port ?? 8787, host);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    port = await listen(server, 0, host);
  }
  return {
    url: `http://${host}:${port}/`,
    server,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function main(argv: string[]): Promise<void> {
  const portAt = argv.indexOf('--port');
  const port = portAt >= 0 ? Number(argv[portAt + 1]) : Number(process.env['PORT'] ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`--port must be an integer 0–65535, got ${argv[portAt + 1]}`);
  const dir = argv.includes('--no-build') ? DEFAULT_OUT : await buildDemo();
  const s = await startDemoServer({ dir, port });
  console.log(`rmsnorm demo: ${s.url}  (cross-origin isolated: wasm threads on; Ctrl+C to stop)`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}

// Real TCP proxies for integration specs: find nginx (with its stream module), run it in the foreground on loopback, stop it.
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { startProgram, stopperOf } from '../../bench/programs';

/** Whether a usable nginx is here: its binary and the `load_module` line its stream module needs. */
export type NginxLookup =
  | { readonly found: true; readonly binary: string; readonly version: string; readonly loadModule: string | undefined }
  | { readonly found: false; readonly reason: string };

const NGINX_PATHS = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx', '/usr/bin/nginx'];
const STREAM_MODULES = ['/usr/lib/nginx/modules/ngx_stream_module.so', '/usr/share/nginx/modules/ngx_stream_module.so'];

/** Looks for nginx and its `stream` module (Debian: packages nginx and libnginx-mod-stream), or `RXNET_NGINX`. */
export function findNginx(): NginxLookup {
  // RXNET_NGINX names the binary to use (a path that does not exist shows the spec's "missing" branch).
  const override = process.env.RXNET_NGINX;
  const fromPath = (process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, 'nginx'));
  const binary = (override ? [override] : [...fromPath, ...NGINX_PATHS]).find((file) => isExecutable(file));
  if (binary === undefined)
    return { found: false, reason: 'nginx is not installed (apt-get install nginx libnginx-mod-stream)' };
  const probe = spawnSync(binary, ['-V'], { encoding: 'utf8', timeout: 10_000 });
  const configure = `${probe.stderr ?? ''}${probe.stdout ?? ''}`;
  const version = /nginx\/(\S+)/.exec(configure)?.[1] ?? 'unknown';
  if (/--with-stream(\s|$)/.test(configure)) return { found: true, binary, version, loadModule: undefined };
  if (/--with-stream=dynamic/.test(configure)) {
    const module = STREAM_MODULES.find((file) => fs.existsSync(file));
    if (module === undefined) {
      return {
        found: false,
        reason: `nginx ${version} is installed but its stream module is not (apt-get install libnginx-mod-stream)`,
      };
    }
    return { found: true, binary, version, loadModule: module };
  }
  return { found: false, reason: `nginx ${version} is installed but was built without the stream module` };
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** A port on `host` that was free a moment ago (bind port 0, read it, close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port: 0, host }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** True when this machine can bind the IPv6 loopback address. */
export function hasIPv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port: 0, host: '::1' }, () => server.close(() => resolve(true)));
  });
}

/** One `stream { server { ... } }` of an nginx config: listen address to upstream, PROXY protocol on. */
export interface NginxStreamRoute {
  /** `127.0.0.1:PORT` or `[::1]:PORT`. */
  readonly listen: string;
  /** `127.0.0.1:PORT`. */
  readonly upstream: string;
}

/** A running nginx: its temp directory and the way to stop it. */
export interface RunningNginx {
  readonly dir: string;
  readonly process: ChildProcess;
  /** Stops nginx (SIGTERM, SIGKILL after 5 s), waits for its exit, removes the temp directory. */
  stop(): Promise<void>;
}

/**
 * Writes an nginx config with `proxy_protocol on` for each route into a fresh temp directory and
 * runs nginx in the foreground (`-p dir -c conf -g 'daemon off;'`), its pid file and error log in
 * that directory. Resolves once nginx says it started its workers (its listening sockets are
 * bound by then); rejects with what nginx printed if it exits first.
 */
export async function startNginx(
  lookup: Extract<NginxLookup, { found: true }>,
  routes: readonly NginxStreamRoute[],
): Promise<RunningNginx> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxnet-nginx-'));
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    conf,
    [
      lookup.loadModule === undefined ? '' : `load_module ${lookup.loadModule};`,
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log info;`,
      // Also on stderr at notice level: "start worker processes" is how we know it is ready.
      'error_log stderr notice;',
      'events { worker_connections 256; }',
      'stream {',
      ...routes.map(
        (route) =>
          `  server { listen ${route.listen}; proxy_pass ${route.upstream}; proxy_protocol on; proxy_connect_timeout 5s; proxy_timeout 60s; }`,
      ),
      '}',
      '',
    ].join('\n'),
  );
  const child = spawn(lookup.binary, ['-p', dir, '-c', conf, '-e', `${dir}/startup.log`, '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const stopChild = stopperOf(child);
  const stop = async () => {
    await stopChild();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (text: string) => {
        stderr += text;
        if (stderr.includes('start worker process')) resolve();
      });
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        const log = fs.existsSync(path.join(dir, 'startup.log'))
          ? fs.readFileSync(path.join(dir, 'startup.log'), 'utf8')
          : '';
        reject(new Error(`nginx exited (${code ?? signal}) before starting:\n${stderr}${log}`));
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { dir, process: child, stop };
}

/** A redis-server binary on PATH (or /usr/bin), or undefined. */
export function findRedisServer(): string | undefined {
  return findProgram('redis-server');
}

/** The executable `name` on PATH, or in /usr/bin or /usr/local/bin; undefined when there is none. */
export function findProgram(name: string): string | undefined {
  const fromPath = (process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, name));
  return [...fromPath, `/usr/bin/${name}`, `/usr/local/bin/${name}`].find((file) => isExecutable(file));
}

/** A running redis-server on loopback, without persistence. */
export interface RunningRedis {
  readonly port: number;
  readonly url: string;
  /** Stops it (SIGTERM, SIGKILL after 5 s) and waits for its exit. */
  stop(): Promise<void>;
}

/**
 * Starts `redis-server --port P --bind 127.0.0.1 --save '' --appendonly no` in the foreground and
 * resolves once it says it is ready to accept connections; rejects with its output if it exits first.
 */
export async function startRedis(binary: string, port: number): Promise<RunningRedis> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const { stop } = await startProgram('redis-server', binary, args, /Ready to accept connections/, {}, port);
  return { port, url: `redis://127.0.0.1:${port}`, stop };
}

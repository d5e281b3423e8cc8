// A throwaway PostgreSQL server for the tests: initdb into a temporary folder, start it
// on a free port on 127.0.0.1, hand back its URL, and remove it all on stop (or exit).
// Sessions run as root and initdb refuses root, so as root the server runs as the
// `postgres` user through `runuser`. If LOOM_TEST_POSTGRES_URL is already set, that server is used.
//
// Usage: const pg = await startPostgres(); ... process.env.X = pg.url; ... await pg.stop();
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PG_ROOT = '/usr/lib/postgresql';

/**
 * Starts a throwaway PostgreSQL server, or reuses LOOM_TEST_POSTGRES_URL.
 * @returns {Promise<{ url: string; stop(): Promise<void> }>}
 */
export async function startPostgres() {
  const existing = process.env.LOOM_TEST_POSTGRES_URL;
  if (existing) return { url: existing, stop: async () => {} };

  const bin = findServerBinaries() ?? installServer();
  // The server user must reach the folder: /tmp is open to all, a TMPDIR under /root is not.
  const dir = mkdtempSync(join(existsSync('/tmp') ? '/tmp' : tmpdir(), 'loom-pg-'));
  if (isRoot()) {
    const { uid, gid } = postgresUser();
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const log = join(dir, 'log');

  asPostgres(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'], 'initdb');
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  try {
    asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-l', log, '-w', '-o', options, 'start'], 'pg_ctl start');
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  let stopped = false;
  const stopNow = () => {
    if (stopped) return;
    stopped = true;
    const [command, args] = serverCommand(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
    spawnSync(command, args, { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  // A test run cut short (Ctrl-C, an uncaught error) must not leave a server behind.
  const onSignal = (signal) => {
    stopNow();
    process.kill(process.pid, signal);
  };
  process.once('exit', stopNow);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      process.off('exit', stopNow);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      stopNow();
    },
  };
}

/** The bin folder of the highest installed PostgreSQL version, or undefined. */
function findServerBinaries() {
  if (!existsSync(PG_ROOT)) return undefined;
  const versions = readdirSync(PG_ROOT)
    .filter((name) => /^\d+(\.\d+)?$/.test(name) && existsSync(join(PG_ROOT, name, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(PG_ROOT, versions[0], 'bin') : undefined;
}

function installServer() {
  console.log('postgres: no server found under /usr/lib/postgresql; running apt-get update');
  run('apt-get', ['update']);
  console.log('postgres: running apt-get install -y postgresql');
  run('apt-get', ['install', '-y', 'postgresql'], { DEBIAN_FRONTEND: 'noninteractive' });
  const bin = findServerBinaries();
  if (!bin) throw new Error('postgres: apt-get install postgresql finished but no server binaries were found');
  return bin;
}

function run(command, args, env = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.status !== 0) throw new Error(`postgres: ${command} ${args.join(' ')} failed (status ${result.status})`);
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** initdb refuses to run as root, so as root the server's tools run as the `postgres` user. */
function serverCommand(command, args) {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

function asPostgres(command, args, what) {
  const [program, programArgs] = serverCommand(command, args);
  const result = spawnSync(program, programArgs, { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`postgres: ${what} failed (status ${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
}

function postgresUser() {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** A port nobody listens on now: bind port 0 on 127.0.0.1, read it, and let it go. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

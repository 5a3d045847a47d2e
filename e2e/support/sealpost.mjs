// Starts a real `sealpost serve` on a fresh data directory (SQLite, or the PostgreSQL database
// given) and a free port, and runs the `sealpost` CLI against the same settings, as an
// administrator would.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = process.env.SEALPOST_BIN ?? new URL('../../target/debug/sealpost', import.meta.url).pathname;

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const POSTGRES = process.env.SEALPOST_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

// Runs one statement as the PostgreSQL administrator; never waits for a password or for long.
function psql(statement) {
  return spawnSync('psql', ['-w', POSTGRES, '-qc', statement], { encoding: 'utf8', timeout: 15_000 });
}

// A fresh PostgreSQL database (`sealpost_test_…`), or null when no server answers on
// 127.0.0.1:5432. `dropPostgres` removes it and its councils' roles.
export function freshPostgres() {
  const admin = POSTGRES;
  const name = `sealpost_test_e2e_${Math.random().toString(16).slice(2, 14)}`;
  const r = psql(`CREATE DATABASE ${name}`);
  if (r.status !== 0) return null;
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

export function dropPostgres(url) {
  const name = new URL(url).pathname.slice(1);
  const roles = spawnSync('psql', ['-w', url, '-Atc', 'SELECT db_role FROM tenants'], { encoding: 'utf8', timeout: 15_000 });
  psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  for (const role of (roles.stdout ?? '').split('\n').filter((r) => /^[a-z0-9_]+$/.test(r))) psql(`DROP ROLE IF EXISTS ${role}`);
}

export async function startSealpost({ org = 'Testshire County Council', env: extra = {}, database } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-e2e-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    SEALPOST_LISTEN: `127.0.0.1:${port}`,
    SEALPOST_DATA_DIR: join(dir, 'data'),
    SEALPOST_PUBLIC_URL: base,
    SEALPOST_ORG_NAME: org,
    // The second factor's own journey turns it on; the others sign in with a password.
    SEALPOST_MFA_REQUIRED: 'none',
    // Sends reach their recipients at once; the undo journey sets its own window.
    SEALPOST_SEND_HOLD_SECONDS: '0',
    RUST_LOG: 'warn',
    ...extra,
  };
  delete env.SEALPOST_DATABASE_URL;
  if (database) env.SEALPOST_DATABASE_URL = database;
  let output = '';
  let server;
  const serve = async () => {
    server = spawn(BIN, ['serve'], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout.on('data', (d) => { output += d; });
    server.stderr.on('data', (d) => { output += d; });
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const r = await fetch(`${base}/readyz`);
        if (r.ok) break;
      } catch { /* not up yet */ }
      if (server.exitCode !== null || Date.now() > deadline) {
        throw new Error(`sealpost serve did not start:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const halt = async () => {
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode !== null ? r() : server.once('exit', r)));
  };
  await serve();
  return {
    base,
    port,
    output: () => output,
    // Stops and starts the server again on the same data (as after `sealpost tenant add`).
    async restart() {
      await halt();
      await serve();
    },
    // Runs one SQL statement on the server's SQLite database, for a test that must move a
    // message past its expiry (the server's clock is the real one).
    sql(statement) {
      const db = join(dir, 'data', 'sealpost.db');
      const code = 'import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nc.execute(sys.argv[2])\nc.commit()';
      const r = spawnSync('python3', ['-c', code, db, statement], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`sql failed: ${r.stderr}`);
    },
    cli(args, input) {
      const r = spawnSync(BIN, args, { env, cwd: dir, input: input ?? '', encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`sealpost ${args.join(' ')} failed: ${r.stderr}`);
      return r.stdout;
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

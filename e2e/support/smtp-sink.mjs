// A real SMTP server for the browser journeys: aiosmtpd (from PyPI, installed by the test
// command) writing each accepted email into a Maildir that the test reads.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from './sealpost.mjs';

const PYTHON = process.env.SMTP_SINK_PYTHON ?? 'python3';

function reachable(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => { socket.end(); resolve(true); });
    socket.on('error', () => resolve(false));
  });
}

// Undoes quoted-printable so a test can search an email as a person would read it.
function decodeQuotedPrintable(text) {
  return text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

export async function startSmtpSink() {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-smtp-'));
  const maildir = join(dir, 'mail');
  const port = await freePort();
  const child = spawn(PYTHON, ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'aiosmtpd.handlers.Mailbox', maildir], { stdio: 'ignore' });
  const deadline = Date.now() + 15_000;
  while (!(await reachable(port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('aiosmtpd did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const messages = () => {
    try {
      return readdirSync(join(maildir, 'new')).map((f) => decodeQuotedPrintable(readFileSync(join(maildir, 'new', f), 'utf8')));
    } catch {
      return [];
    }
  };
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    // Waits for an email to `address` (containing `text`, if given) and returns it.
    async waitFor(address, text = '', timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const found = messages().find((m) => m.toLowerCase().includes(`to: ${address}`) && m.includes(text));
        if (found) return found;
        if (Date.now() > until) throw new Error(`no email to ${address}; have ${messages().length}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop() {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

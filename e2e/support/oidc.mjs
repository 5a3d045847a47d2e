// Starts the test OpenID provider (support/oidc-provider.mjs: panva's oidc-provider, shaped
// like Entra ID) on `port`, sending browsers back to `redirectUri`.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export const TENANT = '5b4f2c6e-9d3a-4e8b-a1c7-2f6d8e0b9a31';
export const CLIENT_ID = 'sealpost-e2e';
export const CLIENT_SECRET = 'a-client-secret-for-the-browser-journeys';

// The issuer a provider on `port` will have: Sealpost is told it before the provider starts
// (Sealpost asks the provider for its metadata only at the first sign-in).
export const issuerOn = (port) => `http://127.0.0.1:${port}/${TENANT}/v2.0`;

export async function startIdp({ port, redirectUri }) {
  const script = new URL('./oidc-provider.mjs', import.meta.url).pathname;
  const args = [script, '--port', String(port), '--tenant', TENANT, '--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET, '--redirect-uri', redirectUri];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let errors = '';
  child.stderr.on('data', (d) => { errors += d; });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', () => reject(new Error(`the OpenID provider did not start:\n${errors}`)));
  });
  const { issuer } = JSON.parse(first);
  return {
    issuer,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    },
  };
}

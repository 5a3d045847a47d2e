// A real OpenID provider for the tests: panva's certified `oidc-provider`, shaped like Microsoft
// Entra ID. Its issuer is `http://127.0.0.1:PORT/<tenant id>/v2.0`, and its ID tokens carry the
// `oid` (the person's object id) and `tid` (the tenant) claims Entra issues.
//
//   node e2e/support/oidc-provider.mjs --client-id ID --client-secret SECRET --redirect-uri URI
//
// It prints one line of JSON, `{"issuer": "…"}`, once it listens, and runs until killed.
// Anyone may sign in: the name typed at its sign-in page (or sent as `login_hint`) is the
// account, and its address unless told otherwise. Two test-only endpoints under the issuer:
//   POST /__test/next-id-token {"mode": "signature"|"audience"|"nonce"|"expired"}: the next ID
//        token the token endpoint issues is spoiled that way (re-signed with the provider's own
//        key where a claim changes, so only that claim is wrong);
//   POST /__test/email {"login": "…", "email": "…"}: that account's address claim from now on.

import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    tenant: { type: 'string', default: '5b4f2c6e-9d3a-4e8b-a1c7-2f6d8e0b9a31' },
  },
});
for (const required of ['client-id', 'client-secret', 'redirect-uri']) {
  if (!args[required]) {
    console.error(`oidc-provider: --${required} is required`);
    process.exit(2);
  }
}

const prefix = `/${args.tenant}/v2.0`;
const spoil = { next: null };
const emails = new Map();

// Stable per person, as Entra's are: a uuid-shaped object id, and a subject per application.
const digest = (text) => createHash('sha256').update(text).digest();
function objectId(login) {
  const h = digest(`oid:${login}`).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
const displayName = (login) =>
  login
    .split('@')[0]
    .split(/[._-]/)
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join(' ');

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };

const server = http.createServer();
await new Promise((resolve) => server.listen(Number(args.port), '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}${prefix}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: args['client-id'],
      client_secret: args['client-secret'],
      redirect_uris: args['redirect-uri'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [signingJwk] },
  cookies: { keys: [randomUUID()] },
  // Every claim goes in the ID token, as Entra's do (the client reads no userinfo).
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub', 'oid', 'tid'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
  },
  pkce: { required: () => true },
  ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 3600, Interaction: 600, Session: 3600 },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `${prefix}/interaction/${interaction.uid}` },
  // The council's own application: no consent screen.
  async loadExistingGrant(ctx) {
    const existing = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (existing) return ctx.oidc.provider.Grant.find(existing);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
  async findAccount(_ctx, login) {
    return {
      accountId: login,
      async claims() {
        const email = emails.get(login) ?? login;
        return {
          oid: objectId(login),
          tid: args.tenant,
          email,
          email_verified: true,
          name: displayName(login),
          preferred_username: email,
        };
      },
    };
  },
});

// The spoiled ID token, when a test asked for one.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== '/token' || ctx.method !== 'POST' || !spoil.next || !ctx.body?.id_token) return;
  const mode = spoil.next;
  spoil.next = null;
  ctx.body = { ...ctx.body, id_token: await spoiled(ctx.body.id_token, mode) };
});

async function spoiled(idToken, mode) {
  const [header, payload, signature] = idToken.split('.');
  if (mode === 'signature') {
    const bytes = Buffer.from(signature, 'base64url');
    bytes[0] ^= 0x01;
    return `${header}.${payload}.${bytes.toString('base64url')}`;
  }
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  const now = Math.floor(Date.now() / 1000);
  if (mode === 'audience') claims.aud = 'some-other-application';
  else if (mode === 'nonce') claims.nonce = 'not-the-nonce-that-was-sent';
  else if (mode === 'expired') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
  else throw new Error(`unknown mode ${mode}`);
  const protectedHeader = JSON.parse(Buffer.from(header, 'base64url').toString());
  const key = await jose.importJWK(signingJwk, 'RS256');
  return new jose.CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader(protectedHeader).sign(key);
}

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (uid, hint) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to your account</title></head>
<body><main><h1>Sign in to your account</h1>
<p>Test identity provider (Entra-shaped).</p>
<form method="post" action="${prefix}/interaction/${escape(uid)}/login">
<label for="login">Email, phone or Skype</label>
<input id="login" name="login" type="email" autocomplete="username" value="${escape(hint ?? '')}" required>
<button type="submit">Next</button>
</form></main></body></html>`;

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

const callback = provider.callback();
server.on('request', async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    if (!url.pathname.startsWith(prefix)) {
      res.writeHead(404).end();
      return;
    }
    const path = url.pathname.slice(prefix.length) || '/';
    if (req.method === 'POST' && path === '/__test/next-id-token') {
      spoil.next = JSON.parse(await readBody(req)).mode;
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'POST' && path === '/__test/email') {
      const { login, email } = JSON.parse(await readBody(req));
      emails.set(login, email);
      res.writeHead(204).end();
      return;
    }
    const interaction = path.match(/^\/interaction\/([^/]+)(\/login)?$/);
    if (interaction) {
      const details = await provider.interactionDetails(req, res);
      let login = details.params.login_hint;
      if (interaction[2] && req.method === 'POST') login = new URLSearchParams(await readBody(req)).get('login');
      if (!login) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(details.uid, details.params.login_hint));
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId: login.trim().toLowerCase() } }, { mergeWithLastSubmission: false });
      return;
    }
    // The provider itself, mounted under the tenant's path as Express would mount it.
    req.originalUrl = req.url;
    req.url = req.url.slice(prefix.length) || '/';
    callback(req, res);
  } catch (e) {
    console.error(`oidc-provider: ${e.message}`);
    if (!res.headersSent) res.writeHead(500).end();
  }
});

console.log(JSON.stringify({ issuer }));

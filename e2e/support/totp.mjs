// RFC 6238 codes, as an authenticator app computes them from the key the page shows
// (base32, SHA-1, six digits, 30-second steps), with Node's own HMAC.
import { createHmac } from 'node:crypto';

function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

export function totp(key, at = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac('sha1', base32(key)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

// On the "Set up your second factor" page: reads the key, enters the code an app would show,
// keeps the recovery codes and continues, by keyboard. Returns the key and the codes.
export async function enrol(page) {
  await page.getByRole('heading', { level: 1, name: 'Set up your second factor' }).waitFor();
  const key = await page.locator('.totp-key').innerText();
  await page.getByLabel('Code from the app').fill(totp(key));
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Keep your recovery codes' }).waitFor();
  const codes = await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').allInnerTexts();
  await page.waitForFunction(() => document.activeElement?.tagName === 'H1', null, { timeout: 5000 });
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  return { key, codes };
}

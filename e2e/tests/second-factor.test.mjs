// The second factor (issue 17): a member of staff whose council requires one signs in with
// their password and is taken straight to setting it up; by keyboard alone they read the key
// the page shows (an app would scan the QR code), enter the code their app would show, keep
// their recovery codes and arrive at their Inbox. Their next sign-in asks for a code; a
// recovery code also works, once. axe on every step, desktop and phone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { assertFitsWidth, axeViolations, launchBrowser, newPage, screenshot } from '../support/browser.mjs';
import { PASSWORD } from '../support/people.mjs';
import { startSealpost } from '../support/sealpost.mjs';
import { totp } from '../support/totp.mjs';

const ANN = 'ann@testshire.gov.uk';

async function password(page, base) {
  await page.goto(`${base}/inbox`);
  await page.getByLabel('Email address').fill(ANN);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.keyboard.press('Enter');
}

// A code for the next 30-second step, so it is not the one already used.
function nextCode(key) {
  return totp(key, Date.now() + 30_000);
}

describe('the second factor', () => {
  let sealpost;
  let browser;

  before(async () => {
    sealpost = await startSealpost({ env: { SEALPOST_MFA_REQUIRED: 'all' } });
    browser = await launchBrowser();
    sealpost.cli(['user', 'add', '--email', ANN, '--name', 'Ann Lee', '--password-stdin'], PASSWORD);
  });

  after(async () => {
    await browser?.close();
    await sealpost?.stop();
  });

  test('set up by keyboard after the password, then a code at each sign-in and a recovery code once', async () => {
    const page = await newPage(browser);
    await password(page, sealpost.base);
    await page.getByRole('heading', { level: 1, name: 'Set up your second factor' }).waitFor();
    await page.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
    const key = await page.locator('.totp-key').innerText();
    assert.match(key, /^[A-Z2-7]{4}( [A-Z2-7]{4}){7}$/);
    assert.deepEqual(await axeViolations(page), [], 'enrolment');
    await screenshot(page, '20-second-factor-enrol');
    // By keyboard alone: Tab to the code field, type, press Enter.
    for (let i = 0; i < 15 && (await page.evaluate(() => document.activeElement?.id)) !== 'code'; i += 1) {
      await page.keyboard.press('Tab');
    }
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'code');
    await page.keyboard.type('000000' === totp(key) ? '111111' : '000000');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').getByText('That code is not right').waitFor();
    await page.getByLabel('Code from the app').fill(totp(key));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Keep your recovery codes' }).waitFor();
    const codes = await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').allInnerTexts();
    assert.equal(codes.length, 10);
    assert.deepEqual(await axeViolations(page), [], 'recovery codes');
    await screenshot(page, '20-second-factor-codes');
    // The focus moved to the new heading; Tab reaches the button, Enter presses it.
    await page.waitForFunction(() => document.activeElement?.tagName === 'H1', null, { timeout: 5000 });
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();

    // The next sign-in asks for a code, on a phone.
    const phone = await newPage(browser, { viewport: { width: 390, height: 844 } });
    await password(phone, sealpost.base);
    await phone.getByRole('heading', { level: 1, name: 'Enter your code' }).waitFor();
    assert.deepEqual(await axeViolations(phone), [], 'code');
    await assertFitsWidth(phone, 'code on a phone');
    await screenshot(phone, '20-second-factor-code-phone');
    await phone.getByLabel('Code', { exact: true }).fill(nextCode(key));
    await phone.keyboard.press('Enter');
    await phone.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();

    // A recovery code works once.
    const spare = await newPage(browser);
    await password(spare, sealpost.base);
    await spare.getByLabel('Code', { exact: true }).fill(codes[0]);
    await spare.keyboard.press('Enter');
    await spare.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();
    const again = await newPage(browser);
    await password(again, sealpost.base);
    await again.getByLabel('Code', { exact: true }).fill(codes[0]);
    await again.keyboard.press('Enter');
    await again.getByRole('alert').getByText('That code is not right').waitFor();
    for (const p of [page, phone, spare, again]) assert.deepEqual(p.errors, []);
  });
});

// Two councils on one deployment (issue 21), in Chromium, against a real server on
// PostgreSQL: the IT team adds North Council with the CLI, and North's people sign in at
// North's own address, see North's name, and send mail the default council never sees.
// Chromium sends *.localhost to this machine and treats it as secure, as HTTPS would be.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { assertFitsWidth, axeViolations, launchBrowser, newPage, screenshot } from '../support/browser.mjs';
import { PASSWORD } from '../support/people.mjs';
import { dropPostgres, freshPostgres, startSealpost } from '../support/sealpost.mjs';
import { sendMessage, signIn } from '../support/staff.mjs';

const database = freshPostgres();

describe('several councils on one deployment', { skip: database ? false : 'no PostgreSQL on 127.0.0.1:5432' }, () => {
  let sealpost;
  let browser;
  let north;

  before(async () => {
    sealpost = await startSealpost({ database });
    const added = sealpost.cli(['tenant', 'add', '--name', 'North Council', '--slug', 'north', '--host', 'north.localhost']);
    assert.match(added, /Tenant north \(North Council\) added: it answers at http:\/\/north\.localhost:\d+/);
    assert.match(added, /--tenant north user add/);
    for (const [who, name] of [['ann', 'Ann North'], ['raj', 'Raj North']]) {
      sealpost.cli(['--tenant', 'north', 'user', 'add', '--email', `${who}@north.gov.uk`, '--name', name, '--password-stdin'], `${PASSWORD}\n`);
    }
    sealpost.cli(['user', 'add', '--email', 'tom@testshire.gov.uk', '--name', 'Tom Default', '--password-stdin'], `${PASSWORD}\n`);
    await sealpost.restart();
    north = `http://north.localhost:${sealpost.port}`;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await sealpost?.stop();
    if (database) dropPostgres(database);
  });

  test('North signs in at its own address, under its own name, and its mail stays in North', async () => {
    const page = await newPage(browser);
    await page.goto(north);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    assert.match(await page.locator('header').innerText(), /North Council/);
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, 'tenants-01-north-sign-in');
    await signIn(page, north, 'ann@north.gov.uk');
    assert.match(await page.locator('header').innerText(), /North Council[\s\S]*Ann North/);
    // To a colleague, and to someone at the default council: to North, a partner outside.
    await sendMessage(page, north, { to: ['raj@north.gov.uk', 'tom@testshire.gov.uk'], subject: 'North budget', body: 'For North only.' });

    const raj = await newPage(browser);
    await signIn(raj, north, 'raj@north.gov.uk');
    await raj.getByRole('link', { name: /North budget/ }).waitFor();
    await screenshot(raj, 'tenants-02-north-inbox');

    // The default council, on the same server: its own name, and North's people unknown.
    const home = await newPage(browser);
    await home.goto(sealpost.base);
    await home.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    assert.match(await home.locator('header').innerText(), /Testshire County Council/);
    await home.getByLabel('Email address').fill('ann@north.gov.uk');
    await home.getByLabel('Password').fill(PASSWORD);
    const answered = home.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login'));
    await home.getByRole('button', { name: 'Sign in' }).click();
    assert.equal((await answered).status(), 401, "North's people are unknown to the default council");
    await home.getByRole('alert').getByText(/email address or password is incorrect/).waitFor();
    // Tom has an account at the default council, yet North's message reaches him only as a
    // partner would get it (by a link), never in the default council's Inbox.
    await signIn(home, sealpost.base, 'tom@testshire.gov.uk');
    await home.getByText('No messages yet').waitFor();
    await screenshot(home, 'tenants-04-default-inbox');
  });

  test('North fits a phone, by keyboard', async () => {
    const page = await newPage(browser, { viewport: { width: 390, height: 844 } });
    await page.goto(north);
    await page.getByLabel('Email address').fill('raj@north.gov.uk');
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();
    assert.match(await page.locator('header').innerText(), /North Council/);
    await assertFitsWidth(page, 'North inbox');
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, 'tenants-03-north-phone');
  });
});

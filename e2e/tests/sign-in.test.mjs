// Journey 1 (set-up) and staff sign-in, in Chromium, against a real server on SQLite.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { axeViolations, launchBrowser, newPage, screenshot } from '../support/browser.mjs';
import { startSealpost } from '../support/sealpost.mjs';

const PASSWORD = 'correct horse battery staple';

describe('staff sign-in', () => {
  let sealpost;
  let browser;

  before(async () => {
    sealpost = await startSealpost();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await sealpost?.stop();
  });

  test('an account made with the CLI signs in by keyboard, sees the shell and signs out', async () => {
    // First start on a fresh data directory: keys made with a warning, and the next step named.
    assert.match(sealpost.output(), /Master key written to .*mode 0600/);
    assert.match(sealpost.output(), /WARNING: the escrow identity was generated on this machine/);
    assert.match(sealpost.output(), /There are no accounts yet[\s\S]*user add --email/);
    const out = sealpost.cli(['user', 'add', '--email', 'ann.lee@testshire.gov.uk', '--name', 'Ann Lee', '--role', 'staff', '--password-stdin'], `${PASSWORD}\n`);
    assert.match(out, /Created staff account ann\.lee@testshire\.gov\.uk/);

    const page = await newPage(browser);
    await page.goto(sealpost.base);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    assert.equal(await page.title(), 'Sign in – Sealpost');
    assert.match(await page.locator('header').innerText(), /Testshire County Council/);
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, '01-sign-in');

    await page.getByLabel('Email address').fill('ann.lee@testshire.gov.uk');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    assert.deepEqual(await nav.getByRole('link').allInnerTexts(), ['Inbox', 'Compose', 'Drafts', 'Sent', 'Search']);
    assert.equal(await nav.getByRole('link', { name: 'Inbox' }).getAttribute('aria-current'), 'page');
    assert.match(await page.locator('main').innerText(), /No messages yet/);
    assert.match(await page.locator('header').innerText(), /Ann Lee/);
    const cookie = (await page.context().cookies()).find((c) => c.name === '__Host-sealpost_session');
    assert.ok(cookie, 'a session cookie');
    assert.ok(cookie.httpOnly && cookie.secure && cookie.sameSite === 'Strict');
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, '02-inbox');
    // Email notices of new mail are on by default; she turns them off, and it sticks.
    const notices = page.getByLabel(/Email me when secure mail arrives/);
    assert.equal(await notices.isChecked(), true);
    await notices.uncheck();
    await page.getByText('Saved: no more emails').waitFor();
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();
    await page.waitForFunction(() => document.querySelector('input[type=checkbox]') && !document.querySelector('input[type=checkbox]').checked);

    for (const [link, heading, shot] of [['Compose', 'Write a secure message', '03-compose'], ['Drafts', 'Drafts', '03b-drafts'], ['Search', 'Search your mail', '03c-search'], ['Sent', 'Sent', '04-sent']]) {
      await nav.getByRole('link', { name: link }).click();
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
      assert.deepEqual(await axeViolations(page), [], link);
      await screenshot(page, shot);
    }

    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Sent' }).waitFor();

    const session = (await page.context().cookies()).find((c) => c.name === '__Host-sealpost_session');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    // The session cookie goes; only the device cookie stays, which opens nothing by itself.
    assert.deepEqual((await page.context().cookies()).map((c) => c.name), ['__Host-sealpost_device'], 'the browser forgot the session');
    // Replaying the old cookie proves the session ended on the server, not just in the browser.
    const replay = await fetch(`${sealpost.base}/api/v1/auth/me`, { headers: { cookie: `${session.name}=${session.value}` } });
    assert.equal(replay.status, 401, 'the session is gone on the server');
    await page.goto(`${sealpost.base}/inbox`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    assert.deepEqual(page.errors, []);
  });

  test('a wrong password shows an accessible error and leaks nothing', async () => {
    sealpost.cli(['user', 'add', '--email', 'bob@testshire.gov.uk', '--name', 'Bob Hale', '--password-stdin'], PASSWORD);
    const page = await newPage(browser);
    await page.goto(`${sealpost.base}/signin`);
    const messages = [];
    for (const email of ['bob@testshire.gov.uk', 'nobody@testshire.gov.uk']) {
      await page.getByLabel('Email address').fill(email);
      await page.getByLabel('Password').fill('not my password at all');
      const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login'));
      await page.getByRole('button', { name: 'Sign in' }).click();
      assert.equal((await answered).status(), 401);
      // The password field is cleared once the answer is shown.
      await page.waitForFunction(() => document.querySelector('#password').value === '', null, { timeout: 5000 });
      const alert = page.getByRole('alert');
      await alert.getByText('There is a problem').waitFor();
      messages.push(await alert.innerText());
      assert.equal(await page.getByLabel('Email address').getAttribute('aria-invalid'), 'true');
      assert.equal(await page.getByLabel('Password').getAttribute('aria-describedby'), 'form-error');
    }
    assert.equal(messages[0], messages[1], 'unknown and known accounts read the same');
    assert.match(messages[0], /email address or password is incorrect/);
    assert.deepEqual(await page.context().cookies(), []);
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, '05-sign-in-error');
  });

  test('a new starter chooses a password from a one-time set-up link', async () => {
    const out = sealpost.cli(['user', 'add', '--email', 'new.starter@testshire.gov.uk', '--name', 'New Starter']);
    const link = out.split(/\s+/).find((w) => w.includes('/setup/'));
    assert.ok(link?.startsWith(sealpost.base), out);
    const page = await newPage(browser);
    await page.goto(link);
    await page.getByRole('heading', { level: 1, name: 'Choose your password' }).waitFor();
    await page.getByText('For New Starter (new.starter@testshire.gov.uk).').waitFor();
    assert.ok(!page.url().includes(link.split('/').pop()), 'the token leaves the address bar');
    assert.deepEqual(await axeViolations(page), []);
    await page.getByLabel('New password').fill('too short');
    await page.getByLabel('Type it again').fill('too short');
    await page.getByRole('button', { name: 'Save password and sign in' }).click();
    await page.getByRole('alert').getByText('at least 12 characters').waitFor();
    await screenshot(page, '06-setup-error');
    await page.getByLabel('New password').fill(PASSWORD);
    await page.getByLabel('Type it again').fill(PASSWORD);
    await page.getByRole('button', { name: 'Save password and sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();
    // The link worked once: a second visit cannot set a password again.
    const reuse = await page.request.post(`${sealpost.base}/api/v1/auth/setup`, {
      headers: { 'x-sealpost-csrf': '1' }, data: { token: link.split('/').pop(), password: PASSWORD },
    });
    assert.equal(reuse.status(), 400);
    // Opening the used link again says so at once, with no form to fill in.
    const again = await newPage(browser);
    await again.goto(link);
    await again.getByRole('heading', { level: 1, name: 'This set-up link no longer works' }).waitFor();
    assert.equal(await again.getByLabel('New password').count(), 0);
    assert.deepEqual(await axeViolations(again), []);
    await screenshot(again, '06b-setup-link-used');
  });

  test('an information governance officer also sees the Audit section, on a phone-sized screen', async () => {
    sealpost.cli(['user', 'add', '--email', 'ida@testshire.gov.uk', '--name', 'Ida Governance', '--role', 'ig', '--password-stdin'], PASSWORD);
    const page = await newPage(browser, { viewport: { width: 390, height: 844 } });
    await page.goto(sealpost.base);
    await page.getByLabel('Email address').fill('ida@testshire.gov.uk');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    await page.getByRole('region', { name: 'Audit events, newest first' }).getByRole('row', { name: /Signed in/ }).first().waitFor();
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, '07-audit-phone');
  });

  test('a disabled account is told so plainly, but only after the right password', async () => {
    sealpost.cli(['user', 'add', '--email', 'leaver@testshire.gov.uk', '--name', 'Lee Leaver', '--password-stdin'], PASSWORD);
    sealpost.cli(['user', 'disable', '--email', 'leaver@testshire.gov.uk']);
    const page = await newPage(browser);
    await page.goto(`${sealpost.base}/signin`);
    await page.getByLabel('Email address').fill('leaver@testshire.gov.uk');
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('email address or password is incorrect').waitFor();
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Your account is disabled' }).waitFor();
    assert.match(await page.locator('main').innerText(), /contact your IT service desk/);
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, '09-account-disabled');
  });

  test('an unknown address and the Audit page for staff explain themselves', async () => {
    sealpost.cli(['user', 'add', '--email', 'cat@testshire.gov.uk', '--name', 'Cat Rowe', '--password-stdin'], PASSWORD);
    const page = await newPage(browser);
    await page.goto(`${sealpost.base}/no-such-page`);
    await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, '08-not-found');
    await page.goto(`${sealpost.base}/audit`);
    await page.getByLabel('Email address').fill('cat@testshire.gov.uk');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    assert.match(await page.locator('main').innerText(), /You do not have access to the audit log/);
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).count(), 0);
    assert.deepEqual(await axeViolations(page), []);
    assert.deepEqual(page.errors, []);
  });
  test('the inbox says it is loading, and says why when it cannot load, in words everyone gets', async () => {
    sealpost.cli(['user', 'add', '--email', 'lou.wade@testshire.gov.uk', '--name', 'Lou Wade', '--password-stdin'], `${PASSWORD}\n`);
    const inbox = /\/api\/v1\/messages\?box=inbox$/;
    const page = await newPage(browser);
    // The list is held back until the loading state has been seen and checked.
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    await page.route(inbox, async (route) => { await held; await route.continue(); });
    await page.goto(`${sealpost.base}/inbox`);
    await page.getByLabel('Email address').fill('lou.wade@testshire.gov.uk');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('status').filter({ hasText: 'Loading your messages…' }).waitFor();
    assert.deepEqual(await axeViolations(page), [], 'inbox loading');
    release();
    await page.getByRole('heading', { level: 2, name: 'No messages yet' }).waitFor();
    assert.equal(await page.getByText('Loading your messages…').count(), 0);

    // When the server cannot answer, the page says so in the server's words, and offers a retry.
    await page.unroute(inbox);
    await page.route(inbox, (route) => route.fulfill({
      status: 503,
      contentType: 'application/json',
      body: JSON.stringify({ code: 'unavailable', message: 'Sealpost is busy. Try again in a minute.' }),
    }));
    await page.reload();
    const alert = page.getByRole('alert').filter({ hasText: 'This could not be loaded' });
    await alert.getByText('Sealpost is busy. Try again in a minute.').waitFor();
    assert.deepEqual(await axeViolations(page), [], 'inbox that could not load');
    await screenshot(page, '02b-inbox-load-failed');
    await page.unroute(inbox);
    await alert.getByRole('button', { name: 'Try again' }).click();
    await page.getByRole('heading', { level: 2, name: 'No messages yet' }).waitFor();
    assert.deepEqual(page.errors, []);
  });
});

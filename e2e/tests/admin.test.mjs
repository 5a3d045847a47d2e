// The admin console (issue 17): IT invites a colleague in the browser; the set-up email
// arrives at the SMTP sink; the colleague chooses a password, sets up their second factor
// (the council requires one of everyone) and signs in; IT disables them and their open page
// is refused at its next request. A CSV import is checked line by line
// and imported whole. Every page passes axe, at desktop and phone width.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { assertFitsWidth, axeViolations, launchBrowser, newPage, screenshot } from '../support/browser.mjs';
import { PASSWORD } from '../support/people.mjs';
import { startSealpost } from '../support/sealpost.mjs';
import { startSmtpSink } from '../support/smtp-sink.mjs';
import { enrol, totp } from '../support/totp.mjs';

const IT = 'it.desk@testshire.gov.uk';
const DEE = 'dee.patel@testshire.gov.uk';

async function setupLinkFor(sink, to) {
  const mail = await sink.waitFor(to, '/setup/');
  return mail.match(/https?:\/\/\S+\/setup\/[0-9a-f]+/)[0];
}

// Signs IT in: the password, then the code (setting the second factor up the first time).
let itKey;
async function signInIt(page, base) {
  await page.goto(`${base}/admin`);
  await page.getByLabel('Email address').fill(IT);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.keyboard.press('Enter');
  if (itKey) {
    await page.getByLabel('Code', { exact: true }).fill(totp(itKey, Date.now() + 30_000));
    await page.keyboard.press('Enter');
  } else {
    itKey = (await enrol(page)).key;
  }
  await page.getByRole('heading', { level: 1, name: 'Admin' }).waitFor();
}

describe('the admin console', () => {
  let sealpost;
  let sink;
  let browser;

  before(async () => {
    sink = await startSmtpSink();
    sealpost = await startSealpost({ env: { SEALPOST_SMTP_URL: sink.url, SEALPOST_MFA_REQUIRED: 'all' } });
    browser = await launchBrowser();
    sealpost.cli(['user', 'add', '--email', IT, '--name', 'Ivy Desk', '--role', 'admin', '--password-stdin'], PASSWORD);
  });

  after(async () => {
    await browser?.close();
    await sealpost?.stop();
    await sink?.stop();
  });

  test('IT invites a colleague who sets up and signs in, then disables them and their open page is refused', async () => {
    const it = await newPage(browser);
    await signInIt(it, sealpost.base);
    await it.getByRole('cell', { name: IT, exact: true }).waitFor();
    assert.deepEqual(await axeViolations(it), [], 'admin');
    await it.getByLabel('Email address').fill(DEE);
    await it.getByLabel('Name', { exact: true }).fill('Dee Patel');
    await it.getByLabel('Role', { exact: true }).selectOption('staff');
    await it.keyboard.press('Enter');
    await it.getByRole('status').getByText(`Dee Patel is invited: the set-up link is on its way to ${DEE}.`).waitFor();
    await it.getByRole('row', { name: new RegExp(`${DEE}.*Invited`) }).waitFor();
    await screenshot(it, '19-admin');

    // The colleague's set-up link arrives by email; they choose a password and are signed in.
    const link = await setupLinkFor(sink, DEE);
    const dee = await newPage(browser);
    await dee.goto(link);
    await dee.getByText(`For Dee Patel (${DEE}).`).waitFor();
    await dee.getByLabel('New password').fill(PASSWORD);
    await dee.getByLabel('Type it again').fill(PASSWORD);
    await dee.getByRole('button', { name: 'Save password and sign in' }).click();
    await enrol(dee);
    await dee.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();

    // IT sees them active and disables them; Dee's next request finds the session gone.
    await it.reload();
    await it.getByRole('row', { name: new RegExp(`${DEE}.*Active.*Set up`) }).waitFor();
    await it.getByRole('button', { name: `Disable ${DEE}` }).click();
    await it.getByRole('status').getByText(`${DEE} is disabled and signed out everywhere.`).waitFor();
    await it.getByRole('button', { name: `Enable ${DEE}` }).waitFor();
    await dee.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sent' }).click();
    await dee.getByRole('button', { name: 'Sign in' }).waitFor();
    await dee.getByLabel('Email address').fill(DEE);
    await dee.getByLabel('Password').fill(PASSWORD);
    await dee.getByRole('button', { name: 'Sign in' }).click();
    await dee.getByRole('heading', { level: 1, name: 'Your account is disabled' }).waitFor();
    assert.deepEqual(it.errors, []);
  });

  test('a CSV import is checked line by line and imported whole, on a phone', async () => {
    const it = await newPage(browser, { viewport: { width: 390, height: 844 } });
    await signInIt(it, sealpost.base);
    const csv = it.getByLabel('Accounts, one a line: address, name, role');
    await csv.fill(`address,name,role\neve.jones@testshire.gov.uk,"Jones, Eve",staff\n${DEE},Dee Again,staff\n`);
    await it.getByRole('button', { name: 'Check the accounts' }).click();
    await it.getByText('1 ready, 1 with a problem.').waitFor();
    await it.getByText('This address already has an account.').waitFor();
    assert.equal(await it.getByRole('button', { name: /Create and invite/ }).count(), 0, 'nothing to import while a line is wrong');
    await csv.fill('eve.jones@testshire.gov.uk,"Jones, Eve",staff\ngus.ng@testshire.gov.uk,Gus Ng,ig\n');
    await it.getByRole('button', { name: 'Check the accounts' }).click();
    await it.getByRole('button', { name: 'Create and invite 2 accounts' }).click();
    await it.getByRole('status').getByText('2 accounts created and invited.').waitFor();
    await it.getByRole('cell', { name: 'gus.ng@testshire.gov.uk', exact: true }).waitFor();
    await setupLinkFor(sink, 'gus.ng@testshire.gov.uk');
    await it.getByRole('heading', { level: 2, name: 'Settings' }).scrollIntoViewIfNeeded();
    await it.getByText('SEALPOST_ORG_NAME').waitFor();
    assert.ok(!(await it.locator('main').innerText()).includes('smtp://'), 'no secret on the page');
    await assertFitsWidth(it, 'admin at 390 px');
    assert.deepEqual(await axeViolations(it), [], 'admin on a phone');
    await screenshot(it, '19-admin-phone');
  });
});

// Every page at a phone's width (390 × 844): nothing scrolls sideways (WCAG 1.4.10 reflow),
// axe finds nothing, and a screenshot of each is kept. Staff send, a colleague reads, a
// partner opens, IG looks at the log, and the pages anyone can reach without signing in.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { assertFitsWidth, axeViolations, launchBrowser, newPage, screenshot } from '../support/browser.mjs';
import { partnerOpens } from '../support/partner.mjs';
import { PARTNER, PASSWORD } from '../support/people.mjs';
import { startSealpost } from '../support/sealpost.mjs';
import { startSmtpSink } from '../support/smtp-sink.mjs';
import { sendMessage, signIn } from '../support/staff.mjs';

const PHONE = { viewport: { width: 390, height: 844 } };

describe('at a phone width', () => {
  let sealpost;
  let sink;
  let browser;

  before(async () => {
    sink = await startSmtpSink();
    sealpost = await startSealpost({ env: { SEALPOST_SMTP_URL: sink.url } });
    browser = await launchBrowser();
    for (const [email, name, role] of [
      ['ann@testshire.gov.uk', 'Ann Lee', 'staff'],
      ['bob@testshire.gov.uk', 'Bob Hale', 'staff'],
      ['ida@testshire.gov.uk', 'Ida Governance', 'ig'],
    ]) {
      sealpost.cli(['user', 'add', '--email', email, '--name', name, '--role', role, '--password-stdin'], PASSWORD);
    }
  });

  after(async () => {
    await browser?.close();
    await sealpost?.stop();
    await sink?.stop();
  });

  async function check(page, label) {
    await assertFitsWidth(page, label);
    assert.deepEqual(await axeViolations(page), [], label);
    await screenshot(page, `phone-${label}`);
  }

  test('no page scrolls sideways', async () => {
    const ann = await newPage(browser, PHONE);
    await ann.goto(`${sealpost.base}/inbox`);
    await ann.getByRole('button', { name: 'Sign in' }).waitFor();
    await check(ann, 'sign-in');
    await signIn(ann, sealpost.base, 'ann@testshire.gov.uk');
    await check(ann, 'inbox-empty');
    await ann.goto(`${sealpost.base}/compose`);
    await ann.getByRole('heading', { level: 1, name: 'Write a secure message' }).waitFor();
    await check(ann, 'compose');
    const path = join(mkdtempSync(join(tmpdir(), 'sealpost-files-')), 'a rather long file name for a referral 2291.txt');
    writeFileSync(path, 'referral\n');
    const subject = 'Case 2291: a referral with a subject long enough to need two lines on a phone';
    const reference = await sendMessage(ann, sealpost.base, {
      to: ['bob@testshire.gov.uk', PARTNER],
      subject,
      body: 'Details:\thttps://www.gov.uk/government/publications/working-together-to-safeguard-children--2',
      files: [path],
    });
    await check(ann, 'message-sender');
    await ann.getByRole('button', { name: `Withdraw access for ${PARTNER}` }).click();
    await ann.getByRole('alertdialog').waitFor();
    await check(ann, 'withdraw-confirm');
    await ann.getByRole('button', { name: 'No, keep access' }).click();
    await ann.goto(`${sealpost.base}/sent`);
    await ann.getByRole('heading', { level: 1, name: 'Sent' }).waitFor();
    await check(ann, 'sent');
    await ann.goto(`${sealpost.base}/compose`);
    await ann.getByRole('button', { name: 'Cc or Bcc' }).click();
    await ann.getByLabel('Subject').fill('A draft whose subject is long enough to wrap on a phone screen');
    await ann.getByRole('status').filter({ hasText: 'Draft saved' }).waitFor();
    await check(ann, 'compose-draft-copies');
    await ann.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Drafts' }).click();
    await ann.getByRole('link', { name: /A draft whose subject/ }).waitFor();
    await check(ann, 'drafts');

    const bob = await newPage(browser, PHONE);
    await signIn(bob, sealpost.base, 'bob@testshire.gov.uk');
    await bob.getByRole('link', { name: subject }).waitFor();
    await check(bob, 'inbox');
    await bob.getByRole('link', { name: subject }).click();
    await bob.getByRole('heading', { level: 1, name: subject }).waitFor();
    await check(bob, 'message-colleague');

    const mail = await sink.waitFor(PARTNER, reference);
    const link = mail.match(new RegExp(`${sealpost.base}/s/[0-9a-f]{64}`))[0];
    const partner = await newPage(browser, PHONE);
    await partner.goto(link);
    await partner.getByRole('button', { name: 'Send me a code' }).waitFor();
    await check(partner, 'portal-link');
    await partnerOpens(partner, sink, { link, address: PARTNER, subject });
    await check(partner, 'portal-message');
    await partner.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
    await partner.getByRole('heading', { level: 1, name: 'You have signed out' }).waitFor();
    await check(partner, 'portal-signed-out');

    const ida = await newPage(browser, PHONE);
    await signIn(ida, sealpost.base, 'ida@testshire.gov.uk', { lands: 'Audit log' });
    await ida.getByRole('heading', { level: 2, name: 'Latest events' }).waitFor();
    await check(ida, 'audit');
    await ida.goto(`${sealpost.base}/audit/messages/${reference}`);
    await ida.getByRole('heading', { level: 1, name: new RegExp(reference) }).waitFor();
    await check(ida, 'audit-timeline');

    const stranger = await newPage(browser, PHONE);
    const setup = sealpost.cli(['user', 'add', '--email', 'new.starter@testshire.gov.uk', '--name', 'New Starter']);
    await stranger.goto(setup.split(/\s+/).find((w) => w.includes('/setup/')));
    await stranger.getByRole('heading', { level: 1, name: 'Choose your password' }).waitFor();
    await check(stranger, 'setup');
    await stranger.goto(`${sealpost.base}/write`);
    await stranger.getByRole('heading', { level: 1, name: 'Write a secure message to the council' }).waitFor();
    await check(stranger, 'write');
    await stranger.goto(`${sealpost.base}/no-such-page`);
    await stranger.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
    await check(stranger, 'not-found');
    for (const page of [ann, bob, partner, ida, stranger]) assert.deepEqual(page.errors, []);
  });
});

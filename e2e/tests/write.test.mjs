// Partners who write first (issue 16): a GP's practice has no message to reply to, so it goes
// to /write, proves its address with a code, and sends Ann a file. Ann finds it in her Inbox
// marked as from outside, reads it and answers; the practice reads the answer through the link
// it is sent. A council address that belongs to nobody gets the very same page.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { axeViolations, launchBrowser, newPage, screenshot } from '../support/browser.mjs';
import { partnerOpens } from '../support/partner.mjs';
import { PASSWORD } from '../support/people.mjs';
import { startSealpost } from '../support/sealpost.mjs';
import { startSmtpSink } from '../support/smtp-sink.mjs';
import { signIn } from '../support/staff.mjs';

const ANN = 'ann@testshire.gov.uk';
const GP = 'practice.manager@gp.example.nhs.uk';

// Writes from `from` to `to` at /write, by keyboard where a person would, and returns the
// "Sent securely" text.
async function writeFirst(page, sealpost, sink, { from, to, subject, body, file }) {
  const isCode = (m) => m.toLowerCase().includes(`to: ${from}`) && m.includes('writing a secure message');
  const earlier = new Set(sink.messages().filter(isCode));
  await page.goto(`${sealpost.base}/write`);
  await page.getByRole('heading', { level: 1, name: 'Write a secure message to the council' }).waitFor();
  await page.getByLabel('Your email address').fill(from);
  await page.getByLabel('The council email address you are writing to').fill(to);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Enter your code' }).waitFor();
  let mail;
  for (const until = Date.now() + 20_000; !mail; await new Promise((r) => setTimeout(r, 200))) {
    mail = sink.messages().find((m) => isCode(m) && !earlier.has(m));
    if (!mail && Date.now() > until) throw new Error(`no code for ${from}`);
  }
  await page.getByLabel('Code from the email').fill(mail.match(/code is:\s+(\d{6})/)[1]);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { level: 1, name: 'Write your message' }).waitFor();
  await page.getByLabel('Subject').fill(subject);
  await page.getByLabel('Message').fill(body);
  if (file) await page.setInputFiles('#files', file);
  await page.getByRole('button', { name: 'Send securely' }).click();
  await page.getByRole('heading', { level: 1, name: 'Sent securely' }).waitFor();
  return page.getByRole('status').innerText();
}

describe('partners who write first', () => {
  let sealpost;
  let sink;
  let browser;

  before(async () => {
    sink = await startSmtpSink();
    sealpost = await startSealpost({ env: { SEALPOST_SMTP_URL: sink.url } });
    browser = await launchBrowser();
    sealpost.cli(['user', 'add', '--email', ANN, '--name', 'Ann Lee', '--password-stdin'], PASSWORD);
  });

  after(async () => {
    await browser?.close();
    await sealpost?.stop();
    await sink?.stop();
  });

  test('a practice writes first with a file, staff read it as from outside and answer, and the practice reads the answer', async () => {
    const gp = await newPage(browser);
    await gp.goto(`${sealpost.base}/write`);
    await gp.getByLabel('Your email address').waitFor();
    assert.deepEqual(await axeViolations(gp), [], 'write: addresses');
    await screenshot(gp, '18-write');
    const path = join(mkdtempSync(join(tmpdir(), 'sealpost-files-')), 'discharge summary.txt');
    writeFileSync(path, 'Discharged on Monday; follow-up in two weeks.\n');
    const done = await writeFirst(gp, sealpost, sink, { from: GP, to: ANN, subject: 'Discharge of your client', body: 'Summary attached.', file: path });
    assert.match(done, /Its reference is SP-[A-Z0-9]{4}-[A-Z0-9]{4}/);
    assert.deepEqual(await axeViolations(gp), [], 'write: sent');
    await screenshot(gp, '18-write-sent');
    // The code email carries the code and nothing else.
    const codeMail = sink.messages().find((m) => m.includes('writing a secure message'));
    assert.ok(!codeMail.includes('Discharge of your client'));

    const ann = await newPage(browser);
    await signIn(ann, sealpost.base, ANN);
    const row = ann.getByRole('row').filter({ hasText: 'Discharge of your client' });
    await row.waitFor();
    assert.match(await row.innerText(), /practice\.manager@gp\.example\.nhs\.uk\s*Outside/);
    await row.getByRole('link').click();
    await ann.getByRole('heading', { level: 1, name: 'Discharge of your client' }).waitFor();
    const article = await ann.getByRole('article').innerText();
    assert.match(article, /Outside the council/);
    assert.match(article, /discharge summary\.txt/);
    assert.deepEqual(await axeViolations(ann), [], 'message from outside');
    await screenshot(ann, '18-message-from-outside');
    await ann.getByRole('link', { name: 'Reply', exact: true }).click();
    await ann.waitForFunction(() => document.querySelector('#subject')?.value === 'Re: Discharge of your client');
    await ann.getByLabel('Message').fill('Thank you: we will visit on Wednesday.');
    await ann.getByRole('button', { name: 'Send securely' }).click();
    await ann.getByRole('button', { name: 'Yes, send it' }).click();
    await ann.getByText('Sent securely.').waitFor();

    const mail = await sink.waitFor(GP, '/s/');
    const link = mail.match(new RegExp(`${sealpost.base}/s/[0-9a-f]{64}`))[0];
    const reader = await newPage(browser);
    await partnerOpens(reader, sink, { link, address: GP, subject: 'Re: Discharge of your client' });
    assert.match(await reader.getByRole('article').innerText(), /we will visit on Wednesday/);
    for (const page of [gp, ann, reader]) assert.deepEqual(page.errors, []);
  });

  test('a council address that belongs to nobody gets the same pages', async () => {
    const stranger = await newPage(browser);
    const done = await writeFirst(stranger, sealpost, sink, {
      from: 'someone@example.org', to: 'nobody@testshire.gov.uk', subject: 'Hello', body: 'Anyone there?',
    });
    assert.match(done, /Your message went to nobody@testshire\.gov\.uk securely\. Its reference is SP-/);
    assert.deepEqual(stranger.errors, []);
  });
});

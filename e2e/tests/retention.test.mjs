// Retention (issue 19): a message past the council's retention days is crypto-shredded. Its
// sender and its partner still find it, told when and why it was deleted, with nothing of its
// words or files left and nothing to answer; never an error page.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { axeViolations, launchBrowser, newPage, screenshot } from '../support/browser.mjs';
import { PASSWORD } from '../support/people.mjs';
import { startSealpost } from '../support/sealpost.mjs';
import { startSmtpSink } from '../support/smtp-sink.mjs';
import { sendMessage, signIn } from '../support/staff.mjs';

const ANN = 'ann@testshire.gov.uk';
const PARTNER = 'records@hospital.example.uk';
const IDA = 'ida@testshire.gov.uk';
const DPO = 'dpo@testshire.gov.uk';

describe('retention', () => {
  let sink;
  let sealpost;
  let browser;

  before(async () => {
    sink = await startSmtpSink();
    sealpost = await startSealpost({ env: { SEALPOST_SMTP_URL: sink.url, SEALPOST_DPO_EMAIL: DPO } });
    browser = await launchBrowser();
    sealpost.cli(['user', 'add', '--email', ANN, '--name', 'Ann Lee', '--password-stdin'], PASSWORD);
    sealpost.cli(['user', 'add', '--email', IDA, '--name', 'Ida Okafor', '--role', 'ig', '--password-stdin'], PASSWORD);
  });

  after(async () => {
    await browser?.close();
    await sealpost?.stop();
    await sink?.stop();
  });

  test('a message past its retention is deleted, and its sender and partner are told when and why', async () => {
    const ann = await newPage(browser);
    await signIn(ann, sealpost.base, ANN);
    const reference = await sendMessage(ann, sealpost.base, {
      to: [PARTNER], subject: 'Discharge summary 2024', body: 'The summary you asked for.',
    });
    const link = (await sink.waitFor(PARTNER, reference)).match(new RegExp(`${sealpost.base}/s/[0-9a-f]{64}`))[0];

    // Three years pass (the schedule keeps OFFICIAL mail for 730 days), then the run.
    sealpost.sql(`UPDATE messages SET created_at = created_at - ${3 * 365 * 86_400_000} WHERE reference = '${reference}'`);
    assert.match(sealpost.cli(['retention', 'run']), /Deleted 1 message /);

    const partner = await newPage(browser);
    await partner.goto(link);
    await partner.getByRole('button', { name: 'Send me a code' }).click();
    const code = (await sink.waitFor(PARTNER, 'confirmation code is')).match(/code is:\s+(\d{6})/)[1];
    await partner.getByLabel('Code from the email').fill(code);
    await partner.getByRole('button', { name: 'Continue' }).click();
    const heading = partner.getByRole('heading', { level: 1, name: /^Deleted under the council's retention policy on / });
    await heading.waitFor();
    assert.match(await partner.getByRole('main').innerText(), /can no longer be opened by anyone/);
    assert.equal(await partner.getByRole('heading', { name: 'Reply securely' }).count(), 0, 'nothing to reply to');
    assert.deepEqual(await axeViolations(partner), [], 'the portal, deleted');
    await screenshot(partner, '25-retention-portal');

    await ann.goto(`${sealpost.base}/sent`);
    await ann.getByRole('row', { name: /Deleted under the council's retention policy/ }).getByRole('link').click();
    await ann.getByRole('heading', { level: 1, name: /^Deleted under the council's retention policy on / }).waitFor();
    assert.equal(await ann.getByRole('link', { name: 'Reply', exact: true }).count(), 0);
    assert.deepEqual(await axeViolations(ann), [], 'the staff app, deleted');
    await screenshot(ann, '26-retention-sent');
    assert.deepEqual(partner.errors, []);
    assert.deepEqual(ann.errors, []);
  });

  test('IG puts one message on legal hold and erases another; the DPO is told and the partner sees it erased', async () => {
    const ann = await newPage(browser);
    await signIn(ann, sealpost.base, ANN);
    const held = await sendMessage(ann, sealpost.base, { to: [PARTNER], subject: 'Tribunal bundle', body: 'Keep this one.' });
    const wrong = await sendMessage(ann, sealpost.base, { to: [PARTNER], subject: 'Pupil records', body: 'Sent to the wrong school.' });
    const link = (await sink.waitFor(PARTNER, wrong)).match(new RegExp(`${sealpost.base}/s/[0-9a-f]{64}`))[0];

    const ida = await newPage(browser);
    await signIn(ida, sealpost.base, IDA, { lands: 'Audit log' });
    await ida.goto(`${sealpost.base}/audit/messages/${held}`);
    await ida.getByLabel('Put on legal hold: why?').fill('Employment tribunal 2026/0412');
    await ida.getByRole('button', { name: 'Put on legal hold' }).click();
    const status = ida.getByRole('status').filter({ hasText: 'On legal hold' });
    await status.waitFor();
    assert.match(await status.innerText(), /Employment tribunal 2026\/0412/);
    await ida.getByRole('region', { name: 'Events about this message, oldest first' }).getByText(/put on legal hold/).waitFor();
    assert.equal(await ida.getByRole('button', { name: 'Erase this message for good' }).count(), 0, 'a held message cannot be erased');
    assert.deepEqual(await axeViolations(ida), [], 'a message on legal hold');
    await screenshot(ida, '27-legal-hold');

    await ida.goto(`${sealpost.base}/audit/messages/${wrong}`);
    await ida.getByLabel('Erase now: why?').fill('Sent to the wrong school; the school confirmed it was not opened');
    await ida.getByRole('button', { name: 'Erase this message for good' }).click();
    await ida.getByRole('alert').getByText(/Tick the box/).waitFor();
    await ida.getByLabel('I understand that nobody, including IG, can open it again').check();
    await ida.getByRole('button', { name: 'Erase this message for good' }).click();
    await ida.getByRole('status').filter({ hasText: /^Erased on / }).waitFor();
    assert.equal(await ida.getByRole('heading', { name: 'Break glass: open the content' }).count(), 0, 'nothing left to open');
    assert.deepEqual(await axeViolations(ida), [], 'an erased message');
    const told = await sink.waitFor(DPO, wrong);
    assert.match(told, /wrong school/);

    const partner = await newPage(browser);
    await partner.goto(link);
    await partner.getByRole('button', { name: 'Send me a code' }).click();
    const codes = () => sink.messages().filter((m) => m.toLowerCase().includes(`to: ${PARTNER}`) && m.includes('confirmation code is'));
    let code;
    for (const until = Date.now() + 20_000; !code; await new Promise((r) => setTimeout(r, 200))) {
      const all = codes();
      code = all.length >= 2 ? all[all.length - 1].match(/code is:\s+(\d{6})/)[1] : undefined;
      if (!code && Date.now() > until) throw new Error('no second code');
    }
    await partner.getByLabel('Code from the email').fill(code);
    await partner.getByRole('button', { name: 'Continue' }).click();
    await partner.getByRole('heading', { level: 1, name: /^Erased by the council's information governance team on / }).waitFor();
    assert.deepEqual([...ann.errors, ...ida.errors, ...partner.errors], []);
  });
});

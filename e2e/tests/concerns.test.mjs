// The checks before a send (issue 20), as a member of staff meets them: a partner's domain
// mistyped as a lookalike of one the council writes to is shown before anything is sent and
// goes only after "Yes, send it"; an NHS number in an OFFICIAL message proposes
// OFFICIAL-SENSITIVE, and one button makes it so. Driven by keyboard where a person would.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { axeViolations, launchBrowser, newPage, screenshot } from '../support/browser.mjs';
import { PASSWORD } from '../support/people.mjs';
import { startSealpost } from '../support/sealpost.mjs';
import { startSmtpSink } from '../support/smtp-sink.mjs';
import { compose, sendMessage, signIn } from '../support/staff.mjs';

const ANN = 'ann@testshire.gov.uk';
const BOB = 'bob@testshire.gov.uk';

describe('checks before a send', () => {
  let sink;
  let sealpost;
  let browser;

  before(async () => {
    sink = await startSmtpSink();
    sealpost = await startSealpost({ env: { SEALPOST_SMTP_URL: sink.url } });
    browser = await launchBrowser();
    sealpost.cli(['user', 'add', '--email', ANN, '--name', 'Ann Lee', '--password-stdin'], PASSWORD);
    sealpost.cli(['user', 'add', '--email', BOB, '--name', 'Bob Shah', '--password-stdin'], PASSWORD);
  });

  after(async () => {
    await browser?.close();
    await sealpost?.stop();
    await sink?.stop();
  });

  async function composeAndSend(page, message) {
    await compose(page, sealpost.base, message);
    await page.getByRole('button', { name: 'Send securely' }).focus();
    await page.keyboard.press('Enter');
  }

  test('a lookalike domain is shown before the send, which goes only once confirmed', async () => {
    const ann = await newPage(browser);
    await signIn(ann, sealpost.base, ANN);
    // The council writes to the real force first.
    await sendMessage(ann, sealpost.base, { to: ['pc.jones@met.police.uk'], subject: 'Referral', body: 'Details.' });

    await composeAndSend(ann, { to: ['pc.smith@met-police.uk'], subject: 'Referral follow-up', body: 'More details.' });
    // First the new address, then, once the server has looked, the lookalike.
    await ann.getByRole('button', { name: 'Yes, send it' }).click();
    const check = ann.getByRole('alert').filter({ hasText: 'Check before you send' });
    await check.getByText('met-police.uk looks like met.police.uk').waitFor();
    assert.equal(sink.messages().filter((m) => m.includes('pc.smith@met-police.uk')).length, 0, 'nothing sent yet');
    assert.deepEqual(await axeViolations(ann), [], 'the compose page with a concern');
    await screenshot(ann, '30-lookalike-warning');

    await check.getByRole('button', { name: 'Yes, send it' }).focus();
    await ann.keyboard.press('Enter');
    await ann.getByRole('heading', { level: 2, name: 'Delivery' }).waitFor();
    const reference = (await ann.getByRole('status').innerText()).match(/SP-[A-Z0-9]{4}-[A-Z0-9]{4}/)[0];
    await sink.waitFor('pc.smith@met-police.uk', reference);
  });

  test('an NHS number in an OFFICIAL message proposes OFFICIAL-SENSITIVE', async () => {
    const ann = await newPage(browser);
    await signIn(ann, sealpost.base, ANN);
    await composeAndSend(ann, { to: [BOB], subject: 'Discharge', body: 'NHS number 943 476 5919, discharged today.' });
    const confirmNew = ann.getByRole('button', { name: 'Yes, send it' });
    const check = ann.getByRole('alert').filter({ hasText: '1 NHS number' });
    await confirmNew.or(check).first().waitFor();
    if (!(await check.isVisible())) await confirmNew.click();
    await check.waitFor();
    assert.doesNotMatch(await check.innerText(), /5919/, 'the number is never repeated');
    await check.getByRole('button', { name: 'Mark it OFFICIAL-SENSITIVE' }).click();
    assert.equal(await ann.getByRole('radio', { name: 'OFFICIAL-SENSITIVE' }).isChecked(), true);
    // The council's policy for the marking is said beside it.
    await ann.getByText('OFFICIAL-SENSITIVE: links work for at most 90 days; people outside the council need a passphrase.').waitFor();
    await ann.getByRole('button', { name: 'Send securely' }).click();
    // Bob has not been written to before: the page still asks about the address.
    const yes = ann.getByRole('button', { name: 'Yes, send it' });
    const delivery = ann.getByRole('heading', { level: 2, name: 'Delivery' });
    await yes.or(delivery).first().waitFor();
    if (await yes.isVisible()) await yes.click();
    await delivery.waitFor();
    assert.match(await ann.getByRole('main').innerText(), /OFFICIAL-SENSITIVE/);
  });
});

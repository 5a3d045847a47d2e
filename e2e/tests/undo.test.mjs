// Undo send (issue 20), as a member of staff meets it: after Send, the message page says when its
// recipients get it and offers Undo send until then. Undone by keyboard, nothing reaches the
// partner or the colleague; a send left alone arrives once the window ends.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { assertFitsWidth, axeViolations, launchBrowser, newPage, screenshot } from '../support/browser.mjs';
import { PASSWORD } from '../support/people.mjs';
import { startSealpost } from '../support/sealpost.mjs';
import { startSmtpSink } from '../support/smtp-sink.mjs';
import { compose, signIn } from '../support/staff.mjs';

const ANN = 'ann@testshire.gov.uk';
const BOB = 'bob@testshire.gov.uk';
const PARTNER = 'pc.jones@met.police.uk';
const HOLD_SECONDS = 6;

describe('undo send', () => {
  let sink;
  let sealpost;
  let browser;

  before(async () => {
    sink = await startSmtpSink();
    sealpost = await startSealpost({
      env: { SEALPOST_SMTP_URL: sink.url, SEALPOST_SEND_HOLD_SECONDS: String(HOLD_SECONDS) },
    });
    browser = await launchBrowser();
    sealpost.cli(['user', 'add', '--email', ANN, '--name', 'Ann Lee', '--password-stdin'], PASSWORD);
    sealpost.cli(['user', 'add', '--email', BOB, '--name', 'Bob Shah', '--password-stdin'], PASSWORD);
  });

  after(async () => {
    await browser?.close();
    await sealpost?.stop();
    await sink?.stop();
  });

  // Sends by keyboard, confirming the new addresses; returns when the message page is open.
  async function sendByKeyboard(page, message) {
    await compose(page, sealpost.base, message);
    await page.getByRole('button', { name: 'Send securely' }).focus();
    await page.keyboard.press('Enter');
    const confirm = page.getByRole('button', { name: 'Yes, send it' });
    const delivery = page.getByRole('heading', { level: 2, name: 'Delivery' });
    await confirm.or(delivery).first().waitFor();
    if (await confirm.isVisible()) {
      await confirm.focus();
      await page.keyboard.press('Enter');
    }
    await delivery.waitFor();
  }

  test('a send undone within its window reaches nobody, by keyboard alone', async () => {
    const ann = await newPage(browser);
    await signIn(ann, sealpost.base, ANN);
    await sendByKeyboard(ann, { to: [PARTNER, BOB], subject: 'Wrong family', body: 'Meant for another case.' });
    const waiting = ann.getByRole('status').filter({ hasText: 'Not delivered yet' });
    await waiting.waitFor();
    assert.match(await waiting.innerText(), /recipients get it at \d\d:\d\d:\d\d/);
    assert.deepEqual(await axeViolations(ann), [], 'the message page with Undo send');
    await screenshot(ann, '32-undo-send');

    await waiting.getByRole('button', { name: 'Undo send' }).focus();
    await ann.keyboard.press('Enter');
    await ann.getByRole('status').filter({ hasText: 'Send undone' }).waitFor();
    await ann.getByText('Cancelled by its sender').first().waitFor();
    assert.deepEqual(await axeViolations(ann), [], 'the message page after Undo send');

    // Well past the window: nothing was sent, and Bob never had it.
    await new Promise((resolve) => setTimeout(resolve, (HOLD_SECONDS + 2) * 1000));
    assert.deepEqual(sink.messages().filter((m) => m.includes(PARTNER) || m.includes(BOB)), [], 'nothing reached the relay');
    const bob = await newPage(browser);
    await signIn(bob, sealpost.base, BOB);
    assert.equal(await bob.getByText('Wrong family').count(), 0, 'not in the colleague\'s inbox');
  });

  test('a send left alone arrives when the window ends, and the box goes, on a phone', async () => {
    const ann = await newPage(browser, { viewport: { width: 390, height: 844 } });
    await signIn(ann, sealpost.base, ANN);
    const sentAt = Date.now();
    await sendByKeyboard(ann, { to: [PARTNER], subject: 'Strategy meeting', body: 'Thursday at two.' });
    const waiting = ann.getByRole('status').filter({ hasText: 'Not delivered yet' });
    await waiting.waitFor();
    await assertFitsWidth(ann, 'undo send at 390 px');
    await screenshot(ann, '33-undo-send-phone');
    const reference = (await ann.getByRole('status').filter({ hasText: 'Sent securely' }).innerText()).match(/SP-[A-Z0-9]{4}-[A-Z0-9]{4}/)[0];
    await sink.waitFor(PARTNER, reference);
    assert.ok(Date.now() - sentAt >= HOLD_SECONDS * 1000, 'the notification waited for the window');
    await waiting.waitFor({ state: 'detached' });
  });
});

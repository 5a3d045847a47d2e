// Conversations (issue 16): a thread in both directions, as its people use it in Chromium.
// Ann sends to partner P and colleague Bob; P replies; Ann answers P's reply; P reads the
// answer in the same conversation after a new code and answers again; Bob replies to all but
// keeps his note internal, and P never sees it. Then Ann forwards the case file to partner Q,
// who opens the file and nothing else of the thread.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { axeViolations, launchBrowser, newPage, screenshot } from '../support/browser.mjs';
import { partnerOpens } from '../support/partner.mjs';
import { PASSWORD } from '../support/people.mjs';
import { startSealpost } from '../support/sealpost.mjs';
import { startSmtpSink } from '../support/smtp-sink.mjs';
import { sendMessage, signIn } from '../support/staff.mjs';

const ANN = 'ann@testshire.gov.uk';
const BOB = 'bob@testshire.gov.uk';
const P = 'sgt.hill@police.example.uk';
const Q = 'duty.gp@nhs.example.uk';

function file(name, text) {
  const path = join(mkdtempSync(join(tmpdir(), 'sealpost-files-')), name);
  writeFileSync(path, text);
  return path;
}

// The link in the newest notification to `address` about `reference`.
async function linkFor(sink, base, address, reference) {
  const mail = await sink.waitFor(address, reference);
  return mail.match(new RegExp(`${base}/s/[0-9a-f]{64}`))[0];
}

// Presses Send securely, says yes to a new address if asked, and waits for "Sent securely.";
// returns the new message's reference.
async function sendNow(page) {
  await page.getByRole('button', { name: 'Send securely' }).click();
  const confirm = page.getByRole('button', { name: 'Yes, send it' });
  const sent = page.getByText('Sent securely.');
  await confirm.or(sent).first().waitFor();
  if (await confirm.isVisible()) await confirm.click();
  await sent.waitFor();
  return (await page.getByRole('status').filter({ hasText: 'Sent securely.' }).innerText()).match(/SP-[A-Z0-9]{4}-[A-Z0-9]{4}/)[0];
}

async function chips(page, list) {
  const items = await page.getByRole('list', { name: list, exact: true }).getByRole('listitem').allInnerTexts();
  return items.map((c) => c.replace(/\s*×$/, ''));
}

describe('conversations', () => {
  let sealpost;
  let sink;
  let browser;

  before(async () => {
    sink = await startSmtpSink();
    sealpost = await startSealpost({ env: { SEALPOST_SMTP_URL: sink.url } });
    browser = await launchBrowser();
    for (const [email, name] of [[ANN, 'Ann Lee'], [BOB, 'Bob Hale']]) {
      sealpost.cli(['user', 'add', '--email', email, '--name', name, '--password-stdin'], PASSWORD);
    }
  });

  after(async () => {
    await browser?.close();
    await sealpost?.stop();
    await sink?.stop();
  });

  test('a thread runs staff → partner → staff → partner, and an internal reply-all stays internal', async () => {
    // 1. Ann sends to P and Bob.
    const ann = await newPage(browser);
    await signIn(ann, sealpost.base, ANN);
    const first = await sendMessage(ann, sealpost.base, { to: [P, BOB], subject: 'Case 7001', body: 'Please confirm the visit on Friday.' });

    // 2. P replies.
    const p = await newPage(browser);
    await partnerOpens(p, sink, { link: await linkFor(sink, sealpost.base, P, first), address: P, subject: 'Case 7001' });
    await p.getByLabel('Your reply').fill('Confirmed for Friday at 10.');
    await p.getByRole('button', { name: 'Send reply securely' }).click();
    await p.getByText('Your reply has been sent securely.').waitFor();

    // 3. Ann answers P's reply: Reply goes to P, with the original quoted.
    await ann.goto(`${sealpost.base}/inbox`);
    await ann.getByRole('row', { name: /Case 7001/ }).getByRole('link').click();
    await ann.getByRole('heading', { level: 1, name: 'Case 7001' }).waitFor();
    await ann.getByRole('link', { name: 'Reply', exact: true }).click();
    await ann.waitForFunction(() => document.querySelector('#subject')?.value === 'Re: Case 7001');
    assert.deepEqual(await chips(ann, 'Recipients'), [P]);
    await ann.getByLabel('Message').fill('Thank you. Bring the signed form.');
    const answer = await sendNow(ann);
    assert.notEqual(answer, first);

    // 4. P reads the answer after a new code, in the same conversation.
    const p2 = await newPage(browser);
    await partnerOpens(p2, sink, { link: await linkFor(sink, sealpost.base, P, answer), address: P, subject: 'Re: Case 7001' });
    const conversation = p2.getByRole('region', { name: 'This conversation' });
    await conversation.getByRole('listitem').nth(1).waitFor();
    assert.equal(await conversation.getByRole('listitem').count(), 2);
    assert.match(await conversation.innerText(), new RegExp(`${first}[\\s\\S]*${answer}`));
    assert.deepEqual(await axeViolations(p2), [], 'portal: a conversation');
    await screenshot(p2, '22-portal-conversation');

    // 5. P answers again.
    await p2.getByLabel('Your reply').fill('Will do.');
    await p2.getByRole('button', { name: 'Send reply securely' }).click();
    await p2.getByText('Your reply has been sent securely.').waitFor();

    // 6. Bob replies to all, but takes P off: an internal note.
    const bob = await newPage(browser);
    await signIn(bob, sealpost.base, BOB);
    await bob.getByRole('row', { name: /Case 7001/ }).getByRole('link').click();
    await bob.getByRole('link', { name: 'Reply to all' }).click();
    await bob.waitForFunction(() => document.querySelector('#subject')?.value === 'Re: Case 7001');
    assert.deepEqual(new Set(await chips(bob, 'Recipients')), new Set([ANN, P]), 'everyone but Bob');
    await bob.getByRole('button', { name: `Remove ${P}` }).click();
    await bob.getByLabel('Message').fill('Internal: I know this family well.');
    assert.deepEqual(await axeViolations(bob), [], 'compose, replying to all');
    await sendNow(bob);

    // P's portal: the two parts addressed to P, never Bob's note.
    await p2.reload();
    await p2.getByRole('heading', { level: 1, name: 'Re: Case 7001' }).waitFor();
    await p2.getByRole('region', { name: 'This conversation' }).getByRole('listitem').nth(1).waitFor();
    assert.equal(await p2.getByRole('region', { name: 'This conversation' }).getByRole('listitem').count(), 2);
    assert.ok(!(await p2.content()).includes('I know this family'), 'the internal note never reaches the partner');
    assert.equal(await p2.getByRole('region', { name: 'Your secure messages' }).getByRole('row').count(), 3, 'a header and two messages');
    // Ann sees all three parts.
    await ann.goto(`${sealpost.base}/inbox`);
    await ann.getByRole('row', { name: /Bob Hale[\s\S]*Re: Case 7001/ }).getByRole('link').click();
    const annSees = ann.getByRole('region', { name: 'This conversation' });
    await annSees.getByRole('listitem').nth(2).waitFor();
    assert.equal(await annSees.getByRole('listitem').count(), 3);
    await screenshot(ann, '23-conversation-staff');
    // Each part opens from the list, in place.
    await annSees.getByRole('link', { name: new RegExp(first) }).click();
    await ann.getByRole('heading', { level: 1, name: 'Case 7001' }).waitFor();
    assert.match(await ann.getByRole('article').innerText(), /Please confirm the visit on Friday\./);
    for (const page of [ann, p, p2, bob]) assert.deepEqual(page.errors, []);
  });

  test('a forward carries the file to a new partner, who sees nothing else of the thread', async () => {
    const plan = file('care plan.txt', 'The care plan\n');
    const ann = await newPage(browser);
    await signIn(ann, sealpost.base, ANN);
    await sendMessage(ann, sealpost.base, { to: [BOB], subject: 'Case 7002', body: 'The plan is attached.', files: [plan] });
    await ann.getByRole('link', { name: 'Forward' }).click();
    await ann.waitForFunction(() => document.querySelector('#subject')?.value === 'Fwd: Case 7002');
    const kept = ann.getByRole('group', { name: 'Files from the original message' }).getByLabel(/care plan\.txt/);
    assert.ok(await kept.isChecked(), 'the file goes with a forward unless unticked');
    await ann.getByLabel('To').fill(Q);
    await ann.keyboard.press('Enter');
    assert.match(await ann.getByLabel('Message').inputValue(), /Forwarded message[\s\S]*The plan is attached\./);
    assert.deepEqual(await axeViolations(ann), [], 'compose, forwarding');
    const reference = await sendNow(ann);

    const q = await newPage(browser);
    await partnerOpens(q, sink, { link: await linkFor(sink, sealpost.base, Q, reference), address: Q, subject: 'Fwd: Case 7002' });
    const [download] = await Promise.all([q.waitForEvent('download'), q.getByRole('link', { name: 'care plan.txt' }).click()]);
    assert.equal(readFileSync(await download.path(), 'utf8'), 'The care plan\n');
    assert.equal(await q.getByRole('region', { name: 'This conversation' }).count(), 0, 'no thread to show');
    assert.equal(await q.getByRole('region', { name: 'Your secure messages' }).count(), 0, 'and no other message');
    await screenshot(q, '24-forward-partner');
    assert.deepEqual(q.errors, []);
    assert.deepEqual(ann.errors, []);
  });
});

// Journey 6 (govern): after a send and a partner's read and download, an information
// governance officer finds the message by its reference, sees the partner's read and download
// on its timeline, follows the partner to their own activity, exports CSV and verifies the
// log. IG sees the record, never the content. axe-core on every console page.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { axeViolations, launchBrowser, newPage, screenshot } from '../support/browser.mjs';
import { partnerOpens } from '../support/partner.mjs';
import { PARTNER, PASSWORD } from '../support/people.mjs';
import { startSealpost } from '../support/sealpost.mjs';
import { startSmtpSink } from '../support/smtp-sink.mjs';
import { sendMessage, signIn } from '../support/staff.mjs';

const ANN = 'ann@testshire.gov.uk';
const IDA = 'ida@testshire.gov.uk';
const DPO = 'dpo@testshire.gov.uk';

describe('information governance', () => {
  let sealpost;
  let sink;
  let browser;

  before(async () => {
    sink = await startSmtpSink();
    sealpost = await startSealpost({ env: { SEALPOST_SMTP_URL: sink.url, SEALPOST_DPO_EMAIL: DPO } });
    browser = await launchBrowser();
    sealpost.cli(['user', 'add', '--email', ANN, '--name', 'Ann Lee', '--password-stdin'], PASSWORD);
    sealpost.cli(['user', 'add', '--email', IDA, '--name', 'Ida Governance', '--role', 'ig', '--password-stdin'], PASSWORD);
  });

  after(async () => {
    await browser?.close();
    await sealpost?.stop();
    await sink?.stop();
  });

  test('an IG officer finds a message by reference, sees who read and downloaded it, exports CSV and verifies the log', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'sealpost-files-')), 'case 7781 notes.txt');
    writeFileSync(path, 'Case notes: CONTENT-CANARY\n');
    const subject = 'Case 7781 safeguarding';
    const ann = await newPage(browser);
    await signIn(ann, sealpost.base, ANN);
    const reference = await sendMessage(ann, sealpost.base, { to: [PARTNER], subject, body: 'Body CONTENT-CANARY', files: [path] });
    const mail = await sink.waitFor(PARTNER, reference);
    const link = mail.match(new RegExp(`${sealpost.base}/s/[0-9a-f]{64}`))[0];
    const partner = await newPage(browser);
    await partnerOpens(partner, sink, { link, address: PARTNER, subject });
    const [download] = await Promise.all([partner.waitForEvent('download'), partner.getByRole('link', { name: 'case 7781 notes.txt' }).click()]);
    await download.path();

    // Ida searches by the reference as she heard it on the phone: lower case, no prefix.
    const ida = await newPage(browser);
    // An IG officer starts at the audit console, not an inbox.
    await signIn(ida, sealpost.base, IDA, { lands: 'Audit log' });
    assert.equal(new URL(ida.url()).pathname, '/audit');
    await ida.getByRole('heading', { level: 2, name: 'Latest events' }).waitFor();
    assert.deepEqual(await axeViolations(ida), [], 'console, latest events');
    await ida.getByLabel('Message reference').fill(reference.slice(3).toLowerCase());
    await ida.getByRole('button', { name: 'Search' }).click();
    await ida.getByRole('heading', { level: 2, name: 'Matching events, newest first' }).waitFor();
    const results = ida.getByRole('region', { name: 'Audit events, newest first' });
    await results.getByRole('row', { name: /Downloaded a file/ }).waitFor();
    assert.match(await results.innerText(), new RegExp(`${PARTNER}[\\s\\S]*Opened a message`));
    assert.ok(ida.url().includes('reference='), 'the search is in the address, so it can be bookmarked');
    assert.deepEqual(await axeViolations(ida), [], 'console, search by reference');
    await screenshot(ida, '30-audit-search');

    // The timeline: the partner was notified, opened once and downloaded once.
    await results.getByRole('link', { name: reference }).first().click();
    await ida.getByRole('heading', { level: 1, name: `Message ${reference}` }).waitFor();
    const trail = ida.getByRole('region', { name: "Each recipient's trail" }).getByRole('row', { name: new RegExp(PARTNER) });
    const cells = await trail.getByRole('cell').allInnerTexts();
    assert.equal(cells[0], `${PARTNER} (external)`);
    assert.notEqual(cells[1], 'Not yet', 'notified');
    assert.notEqual(cells[2], 'Not opened');
    assert.deepEqual(cells.slice(3, 6), ['1', '1', '0'], 'one open, one download, no failed attempts');
    const events = await ida.getByRole('region', { name: 'Events about this message, oldest first' }).innerText();
    assert.match(events, /Sent a message[\s\S]*Notification email accepted[\s\S]*Proved who they are[\s\S]*Opened a message[\s\S]*Downloaded a file/);
    const page = await ida.locator('main').innerText();
    for (const content of [subject, 'CONTENT-CANARY', 'case 7781 notes']) assert.ok(!page.includes(content), `${content} must not reach IG`);
    assert.deepEqual(await axeViolations(ida), [], 'message timeline');
    await screenshot(ida, '31-audit-timeline');

    // The export: a CSV of this message's events, which records itself.
    const [csv] = await Promise.all([ida.waitForEvent('download'), ida.getByRole('link', { name: 'Export as CSV' }).click()]);
    const text = readFileSync(await csv.path(), 'utf8');
    assert.match(csv.suggestedFilename(), /^sealpost-audit-\d{4}-\d{2}-\d{2}\.csv$/);
    assert.match(text, /^seq,time_utc,actor/);
    assert.match(text, new RegExp(`recipient:${PARTNER},${PARTNER},attachment\\.download,Downloaded a file,${reference}`));
    assert.ok(!text.includes('CONTENT-CANARY'));

    // The partner's own activity, from their name on the timeline.
    await ida.getByRole('link', { name: PARTNER }).first().click();
    await ida.getByRole('heading', { level: 2, name: `Activity of ${PARTNER}, external recipient` }).waitFor();
    assert.deepEqual(await axeViolations(ida), [], 'per-person view');

    // Verify: the chain is intact, and the export and the check are themselves on record.
    await ida.getByRole('button', { name: 'Verify the audit log' }).click();
    await ida.getByText('The audit log is intact.').waitFor();
    assert.deepEqual(await axeViolations(ida), [], 'verified');
    await screenshot(ida, '32-audit-verified');
    // The signed checkpoint, as a file to keep away from the server.
    const [kept] = await Promise.all([ida.waitForEvent('download'), ida.getByRole('link', { name: 'Download the signed checkpoint' }).click()]);
    assert.match(kept.suggestedFilename(), /^sealpost-checkpoint-\d+\.txt$/);
    assert.ok(readFileSync(await kept.path(), 'utf8').length > 0);
    await ida.getByRole('link', { name: 'Clear filters' }).click();
    await ida.getByRole('heading', { level: 2, name: 'Latest events' }).waitFor();
    const latest = await ida.getByRole('region', { name: 'Audit events, newest first' }).innerText();
    assert.match(latest, /Exported audit events/);
    assert.deepEqual(ida.errors, []);
    assert.deepEqual(partner.errors, []);
  });

  test('break-glass opens the content only with a reason and the password, and tells the DPO', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'sealpost-files-')), 'statement 4410.txt');
    writeFileSync(path, 'Witness statement 4410\n');
    const ann = await newPage(browser);
    await signIn(ann, sealpost.base, ANN);
    const reference = await sendMessage(ann, sealpost.base, { to: [PARTNER], subject: 'Statement 4410', body: 'The statement is attached.', files: [path] });
    const ida = await newPage(browser);
    await signIn(ida, sealpost.base, IDA, { lands: 'Audit log' });
    await ida.goto(`${sealpost.base}/audit/messages/${reference}`);
    await ida.getByRole('heading', { level: 2, name: 'Break glass: open the content' }).waitFor();
    assert.ok(!(await ida.locator('main').innerText()).includes('Statement 4410'), 'no content before break-glass');
    await ida.getByLabel('Why do you need to see the content?').fill('too short');
    await ida.getByLabel('Your password').fill(PASSWORD);
    await ida.getByRole('button', { name: 'Open the content and tell the DPO' }).click();
    await ida.getByRole('alert').getByText(/Say why you need to see the content/).waitFor();
    assert.deepEqual(await axeViolations(ida), [], 'break-glass form with an error');
    await ida.getByLabel('Why do you need to see the content?').fill('Subject access request SAR-5521 received on 1 December');
    await ida.getByRole('button', { name: 'Open the content and tell the DPO' }).click();
    await ida.getByRole('heading', { level: 1, name: 'Statement 4410' }).waitFor();
    await ida.getByText(/Break-glass access until/).waitFor();
    const [file] = await Promise.all([ida.waitForEvent('download'), ida.getByRole('link', { name: 'statement 4410.txt' }).click()]);
    assert.equal(readFileSync(await file.path(), 'utf8'), 'Witness statement 4410\n');
    const told = await sink.waitFor(DPO, reference);
    assert.match(told, /SAR-5521/);
    assert.ok(!told.includes('The statement is attached'), 'the DPO hears the reason, not the content');
    assert.deepEqual(await axeViolations(ida), [], 'content opened by break-glass');
    await screenshot(ida, '33-break-glass');
    // A reload within the grant shows the content again (recorded as a read), not the form.
    await ida.reload();
    await ida.getByRole('heading', { level: 1, name: 'Statement 4410' }).waitFor();
    assert.equal(await ida.getByRole('button', { name: 'Open the content and tell the DPO' }).count(), 0);
    await ida.getByRole('region', { name: 'Events about this message, oldest first' }).getByText('Opened the content by break-glass').waitFor();
    assert.deepEqual(ida.errors, []);
  });

  test('a search that cannot be run says how to fix it', async () => {
    const ida = await newPage(browser);
    await signIn(ida, sealpost.base, IDA, { lands: 'Audit log' });
    await ida.goto(`${sealpost.base}/audit`);
    await ida.getByLabel('Message reference').fill('SP-2222-2222');
    await ida.getByRole('button', { name: 'Search' }).click();
    await ida.getByRole('alert').getByText('No message has the reference SP-2222-2222.').waitFor();
    await ida.getByText('No events match').waitFor();
    assert.deepEqual(await axeViolations(ida), [], 'search error');
    await ida.goto(`${sealpost.base}/audit/messages/SP-2222-2222`);
    await ida.getByText('No message has the reference SP-2222-2222.').waitFor();
    assert.deepEqual(ida.errors, []);
  });
});

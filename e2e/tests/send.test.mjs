// Journey 2 (send) and 5 (track and revoke): staff A sends a message with a file to staff B and
// to an outside partner; B reads it and downloads the file; the partner's notification arrives
// at a real SMTP server (aiosmtpd) with the link and nothing else; A sees the statuses and
// withdraws the partner's access.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { axeViolations, launchBrowser, newPage, screenshot } from '../support/browser.mjs';
import { startSealpost } from '../support/sealpost.mjs';
import { startSmtpSink } from '../support/smtp-sink.mjs';
import { PARTNER, PASSWORD } from '../support/people.mjs';
import { sendMessage, signIn } from '../support/staff.mjs';


describe('sending secure mail', () => {
  let sealpost;
  let sink;
  let browser;

  before(async () => {
    sink = await startSmtpSink();
    sealpost = await startSealpost({ env: { SEALPOST_SMTP_URL: sink.url } });
    browser = await launchBrowser();
    for (const [email, name] of [['ann@testshire.gov.uk', 'Ann Lee'], ['bob@testshire.gov.uk', 'Bob Hale'], ['cy@testshire.gov.uk', 'Cy Moss']]) {
      sealpost.cli(['user', 'add', '--email', email, '--name', name, '--password-stdin'], PASSWORD);
    }
  });

  after(async () => {
    await browser?.close();
    await sealpost?.stop();
    await sink?.stop();
  });

  test('a colleague and a partner receive a message, and the sender tracks and revokes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealpost-files-'));
    const file = join(dir, 'referral 4471.txt');
    writeFileSync(file, 'CONFIDENTIAL referral details for case 4471\n');

    const ann = await newPage(browser);
    await signIn(ann, sealpost.base, 'ann@testshire.gov.uk');
    await ann.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Compose' }).click();
    await ann.getByRole('heading', { level: 1, name: 'Write a secure message' }).waitFor();
    assert.deepEqual(await axeViolations(ann), [], 'compose');
    await ann.getByLabel('To').fill('bob@testshire.gov.uk');
    await ann.keyboard.press('Enter');
    await ann.getByLabel('To').fill(PARTNER);
    await ann.keyboard.press('Enter');
    const chips = await ann.getByRole('list', { name: 'Recipients', exact: true }).getByRole('listitem').allInnerTexts();
    assert.deepEqual(chips.map((c) => c.replace(/\s*×$/, '')), ['bob@testshire.gov.uk', PARTNER]);
    await ann.getByRole('button', { name: `Remove ${PARTNER}` }).waitFor();
    await ann.getByLabel('Subject').fill('Case 4471 referral');
    await ann.getByLabel('Message').fill('Please review before Friday: https://www.gov.uk/safeguarding');
    await ann.setInputFiles('#files', file);
    // A chosen file is uploaded to the draft at once, sealed, and listed as attached.
    await ann.getByRole('list', { name: 'Attached files' }).getByText('referral 4471.txt').waitFor();
    await screenshot(ann, '10-compose');
    await ann.getByRole('button', { name: 'Send securely' }).click();
    // First time to these addresses: a second look before sending.
    await ann.getByRole('heading', { name: 'Check before you send' }).waitFor();
    assert.deepEqual(await axeViolations(ann), [], 'new-address warning');
    await ann.getByRole('button', { name: 'Yes, send it' }).click();
    await ann.getByRole('heading', { level: 2, name: 'Delivery' }).waitFor();
    const notice = await ann.getByRole('status').innerText();
    const reference = notice.match(/SP-[A-Z0-9]{4}-[A-Z0-9]{4}/)[0];
    assert.deepEqual(await axeViolations(ann), [], 'message (sender)');

    // The partner's notification: the link and reference, never the subject, body or file name.
    const mail = await sink.waitFor(PARTNER);
    assert.match(mail, new RegExp(reference));
    assert.match(mail, new RegExp(`${sealpost.base}/s/[0-9a-f]{64}`));
    for (const secret of ['Case 4471 referral', 'Please review', 'referral 4471.txt', 'CONFIDENTIAL']) {
      assert.ok(!mail.includes(secret), `${secret} leaked into the notification`);
    }

    // The partner opens the link: who sent it and the reference, nothing of the content.
    const link = mail.match(new RegExp(`${sealpost.base}/s/[0-9a-f]{64}`))[0];
    const partner = await newPage(browser);
    await partner.goto(link);
    await partner.getByRole('heading', { level: 1, name: 'Secure message from Ann Lee' }).waitFor();
    const linkPage = await partner.locator('main').innerText();
    assert.match(linkPage, new RegExp(reference));
    assert.ok(!linkPage.includes('Case 4471') && !linkPage.includes('Please review'), 'no content before verification');
    assert.deepEqual(await axeViolations(partner), [], 'link page');
    await screenshot(partner, '16-link-page');
    // "Send me a code": the code arrives by email; the next page's address has no token.
    await partner.getByRole('button', { name: 'Send me a code' }).click();
    await partner.getByRole('heading', { level: 1, name: 'Enter your code' }).waitFor();
    assert.equal(new URL(partner.url()).pathname, '/portal');
    assert.deepEqual(await axeViolations(partner), [], 'code page');
    const codeMail = await sink.waitFor(PARTNER, 'confirmation code is');
    assert.match(codeMail, new RegExp(reference));
    const code = codeMail.match(/code is:\s+(\d{6})/)[1];
    await partner.getByLabel('Code from the email').fill(code);
    await partner.getByRole('button', { name: 'Continue' }).click();
    // Verified: the partner reads the message and downloads the file.
    await partner.getByRole('heading', { level: 1, name: 'Case 4471 referral' }).waitFor();
    assert.match(await partner.locator('article').innerText(), /Please review before Friday/);
    assert.deepEqual(await axeViolations(partner), [], 'portal message');
    await screenshot(partner, '16b-portal-message');
    const [partnerFile] = await Promise.all([partner.waitForEvent('download'), partner.getByRole('link', { name: 'referral 4471.txt' }).click()]);
    assert.equal(readFileSync(await partnerFile.path(), 'utf8'), readFileSync(file, 'utf8'));

    // Bob reads it and downloads the file.
    const bob = await newPage(browser);
    await signIn(bob, sealpost.base, 'bob@testshire.gov.uk');
    const row = bob.getByRole('row', { name: /Case 4471 referral/ });
    assert.match(await row.innerText(), /Ann Lee/);
    assert.match(await row.getAttribute('class'), /unread/);
    assert.deepEqual(await axeViolations(bob), [], 'inbox');
    await screenshot(bob, '11-inbox');
    await row.getByRole('link').click();
    await bob.getByRole('heading', { level: 1, name: 'Case 4471 referral' }).waitFor();
    assert.equal(await bob.getByRole('link', { name: 'https://www.gov.uk/safeguarding' }).getAttribute('rel'), 'noopener noreferrer');
    assert.deepEqual(await axeViolations(bob), [], 'message (recipient)');
    await screenshot(bob, '12-message');
    const [download] = await Promise.all([bob.waitForEvent('download'), bob.getByRole('link', { name: 'referral 4471.txt' }).click()]);
    assert.equal(download.suggestedFilename(), 'referral 4471.txt');
    assert.equal(readFileSync(await download.path(), 'utf8'), readFileSync(file, 'utf8'));

    // Ann sees the statuses, then withdraws the partner's access.
    await ann.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sent' }).click();
    await ann.getByRole('heading', { level: 1, name: 'Sent' }).waitFor();
    assert.deepEqual(await axeViolations(ann), [], 'sent');
    await screenshot(ann, '13-sent');
    await ann.getByRole('link', { name: 'Case 4471 referral' }).click();
    const delivery = ann.getByRole('table');
    await delivery.getByRole('row', { name: /bob@testshire\.gov\.uk/ }).getByText('Read').waitFor();
    // The partner read it in the portal, so their row says so too.
    assert.match(await delivery.getByRole('row', { name: new RegExp(PARTNER.replace(/\./g, '\\.')) }).innerText(), /\(external\)\s+Read/);
    // Withdrawing asks first; "No" changes nothing.
    await ann.getByRole('button', { name: `Withdraw access for ${PARTNER}` }).click();
    const confirm = ann.getByRole('alertdialog', { name: `Withdraw access for ${PARTNER}?` });
    await confirm.waitFor();
    await ann.waitForFunction(() => document.activeElement?.getAttribute('role') === 'alertdialog');
    assert.deepEqual(await axeViolations(ann), [], 'withdraw confirmation');
    await screenshot(ann, '14a-withdraw-confirm');
    await confirm.getByRole('button', { name: 'No, keep access' }).click();
    assert.equal(await delivery.getByText('Access withdrawn').count(), 0);
    await ann.getByRole('button', { name: `Withdraw access for ${PARTNER}` }).click();
    await confirm.getByRole('button', { name: 'Yes, withdraw access' }).click();
    await delivery.getByText('Access withdrawn').waitFor();
    await screenshot(ann, '14-revoked');
    // The withdrawn link now says so, plainly.
    await partner.goto(link);
    await partner.getByRole('heading', { level: 1, name: 'Access to this message has been withdrawn' }).waitFor();
    assert.match(await partner.locator('main').innerText(), new RegExp(`quote reference ${reference}`));
    assert.deepEqual(await axeViolations(partner), [], 'withdrawn link page');
    await screenshot(partner, '17-link-withdrawn');
    // Ann gives access back: a new link arrives by email, and the old one stays dead.
    await ann.getByRole('button', { name: `Give access again to ${PARTNER}` }).click();
    await ann.getByText('a new link is on its way to them by email').waitFor();
    const links = () => sink.messages().filter((m) => m.toLowerCase().includes(`to: ${PARTNER}`))
      .map((m) => m.match(new RegExp(`${sealpost.base}/s/[0-9a-f]{64}`))?.[0]).filter(Boolean);
    for (let i = 0; i < 100 && !links().some((l) => l !== link); i += 1) await new Promise((r) => setTimeout(r, 200));
    const fresh = links().find((l) => l !== link);
    assert.ok(fresh, 'a new notification with a new link');
    await partner.goto(fresh);
    await partner.getByRole('button', { name: 'Send me a code' }).waitFor();
    await partner.goto(link);
    await partner.getByRole('heading', { level: 1 }).filter({ hasNotText: 'Secure message from' }).waitFor();
    assert.deepEqual(partner.errors.filter((e) => !/status of 404/.test(e)), []);
    assert.deepEqual(ann.errors, []);
    assert.deepEqual(bob.errors, []);
  });

  test('at desktop size a problem is brought into view and focused, and goes once the field is fixed', async () => {
    const page = await newPage(browser, { viewport: { width: 1280, height: 900 } });
    await signIn(page, sealpost.base, 'ann@testshire.gov.uk');
    await page.goto(`${sealpost.base}/compose`);
    await page.getByLabel('To').fill('someone.new@charity.example.org');
    await page.keyboard.press('Enter');
    await page.getByLabel('Message').fill('A long message.\n'.repeat(40));
    await page.getByRole('button', { name: 'Send securely' }).click();
    // The missing subject is reported before the new-address question, at the focus.
    const summary = page.locator('.error-summary');
    await summary.getByText('Enter a subject.').waitFor();
    await page.waitForFunction(() => document.activeElement?.classList.contains('error-summary'));
    assert.ok(await summary.isVisible());
    const box = await summary.boundingBox();
    assert.ok(box && box.y >= 0 && box.y < 900, `the summary is on screen (${JSON.stringify(box)})`);
    assert.equal(await page.getByLabel('Subject').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByRole('heading', { name: 'Check before you send' }).count(), 0);
    assert.deepEqual(await axeViolations(page), [], 'compose with an error');
    await screenshot(page, '11-compose-error-desktop');
    await page.getByLabel('Subject').fill('Referral');
    assert.equal(await summary.count(), 0, 'the error goes once the field is fixed');
    assert.equal(await page.getByLabel('Subject').getAttribute('aria-invalid'), null);
    // Now the new-address question, also brought into view with the focus on it.
    await page.getByRole('button', { name: 'Send securely' }).click();
    await page.getByRole('heading', { name: 'Check before you send' }).waitFor();
    await page.waitForFunction(() => document.activeElement?.getAttribute('aria-labelledby') === 'check-title');
    assert.deepEqual(page.errors, []);
  });

  test('a session that ends mid-message loses nothing: sign in again in place, and the draft is back', async () => {
    const page = await newPage(browser);
    await signIn(page, sealpost.base, 'ann@testshire.gov.uk');
    await page.goto(`${sealpost.base}/compose`);
    await page.getByLabel('To').fill('kept.partner@charity.example.org');
    await page.keyboard.press('Enter');
    await page.getByLabel('Subject').fill('Kept across a sign-in');
    await page.getByLabel('Message').fill('Words that must not be lost.');
    // Saved as a draft within seconds; the address now names the draft.
    await page.getByRole('status').filter({ hasText: 'Draft saved' }).waitFor();
    await page.waitForURL(/\/compose\?draft=[0-9a-f-]{36}$/);
    // The session ends on the server, as after 30 idle minutes; the browser still has its cookie.
    const session = (await page.context().cookies()).find((c) => c.name === '__Host-sealpost_session');
    await fetch(`${sealpost.base}/api/v1/auth/logout`, {
      method: 'POST', headers: { cookie: `${session.name}=${session.value}`, 'x-sealpost-csrf': '1' },
    });
    // She goes on typing; the next save finds the session gone, and the page asks her to sign in.
    await page.getByLabel('Message').fill('Words that must not be lost, and a few more.');
    await page.getByText('Your session ended. Sign in again and the message you were writing will be back').waitFor();
    assert.equal(await page.getByRole('banner').getByText('Ann Lee').count(), 0, 'the header no longer names her');
    assert.deepEqual(await axeViolations(page), [], 'sign-in after the session ended');
    await page.getByLabel('Email address').fill('ann@testshire.gov.uk');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('You were signed out, and your message is as you left it.').waitFor();
    assert.equal(await page.getByLabel('Subject').inputValue(), 'Kept across a sign-in');
    assert.equal(await page.getByLabel('Message').inputValue(), 'Words that must not be lost, and a few more.');
    assert.match(await page.getByRole('list', { name: 'Recipients', exact: true }).innerText(), /kept\.partner@charity\.example\.org/);
    await screenshot(page, '15b-compose-restored');
    await page.getByRole('button', { name: 'Send securely' }).click();
    await page.getByRole('button', { name: 'Yes, send it' }).click();
    await page.getByRole('heading', { level: 1, name: 'Kept across a sign-in' }).waitFor();
    // Sent from its draft: the draft is gone (drafts from the other tests stay).
    await page.goto(`${sealpost.base}/drafts`);
    await page.getByRole('heading', { name: 'No drafts' }).or(page.getByRole('table')).first().waitFor();
    assert.equal(await page.getByRole('row').filter({ hasText: 'Kept across a sign-in' }).count(), 0);
    assert.deepEqual(page.errors, []);
  });

  test('files can be dropped on the compose page, and a slow upload shows its progress', async () => {
    const page = await newPage(browser);
    await signIn(page, sealpost.base, 'ann@testshire.gov.uk');
    await page.goto(`${sealpost.base}/compose`);
    await page.getByLabel('To').fill('cy@testshire.gov.uk');
    await page.keyboard.press('Enter');
    await page.getByLabel('Subject').fill('Minutes');
    // A file over the limit is refused before any upload, with a clear message.
    await page.evaluate(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(26 * 1024 * 1024)], 'huge.iso'));
      document.querySelector('.dropzone').dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    });
    await page.getByRole('alert').getByText('the limit for one file is 25 MB').waitFor();
    // Throttle the upload so the progress bar has time to show.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 512 * 1024 });
    // Drop a 2 MB file on the drop zone, as a person dragging it from their desktop would: it
    // uploads to the draft at once, with a progress bar, and Send waits for it.
    await page.evaluate(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(2 * 1024 * 1024).fill(65)], 'minutes.pdf'));
      document.querySelector('.dropzone').dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    });
    const bar = page.getByRole('progressbar');
    await bar.waitFor();
    assert.match(await page.getByText(/Uploading files… \d+%/).innerText(), /Uploading files/);
    assert.equal(await page.getByRole('button', { name: 'Send securely' }).isDisabled(), true, 'Send waits for the upload');
    assert.deepEqual(await axeViolations(page), [], 'compose while uploading');
    await screenshot(page, '15-uploading');
    await page.getByRole('list', { name: 'Attached files' }).getByText('minutes.pdf').waitFor({ timeout: 30_000 });
    assert.match(await page.getByRole('list', { name: 'Attached files' }).innerText(), /2 MB/);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await page.getByRole('button', { name: 'Send securely' }).click();
    await page.getByRole('button', { name: 'Yes, send it' }).click();
    await page.getByRole('heading', { level: 2, name: 'Delivery' }).waitFor();
    assert.match(await page.getByRole('article').innerText(), /minutes\.pdf/);
    assert.ok(!(await page.getByText('huge.iso').count()), 'the refused file was not sent');
  });
  test('a colleague answers a message in its conversation, and both parts are linked', async () => {
    const ann = await newPage(browser);
    await signIn(ann, sealpost.base, 'ann@testshire.gov.uk');
    await sendMessage(ann, sealpost.base, { to: ['cy@testshire.gov.uk'], subject: 'Rota for May', body: 'Can you cover the 12th?' });
    const cy = await newPage(browser);
    await signIn(cy, sealpost.base, 'cy@testshire.gov.uk');
    await cy.getByRole('link', { name: /Rota for May/ }).click();
    await cy.getByRole('heading', { level: 1, name: 'Rota for May' }).waitFor();
    await cy.getByRole('link', { name: 'Reply', exact: true }).click();
    await cy.waitForFunction(() => document.querySelector('#subject')?.value === 'Re: Rota for May');
    const chips = await cy.getByRole('list', { name: 'Recipients', exact: true }).getByRole('listitem').allInnerTexts();
    assert.deepEqual(chips.map((c) => c.replace(/\s*×$/, '')), ['ann@testshire.gov.uk']);
    assert.match(await cy.getByLabel('Message').inputValue(), /wrote:\n> Can you cover the 12th\?/);
    assert.deepEqual(await axeViolations(cy), [], 'compose, answering');
    await cy.getByLabel('Message').fill('Yes, I can.');
    await cy.getByRole('button', { name: 'Send securely' }).click();
    const confirm = cy.getByRole('button', { name: 'Yes, send it' });
    const sent = cy.getByText('Sent securely.');
    await confirm.or(sent).first().waitFor();
    if (await confirm.isVisible()) await confirm.click();
    const conversation = cy.getByRole('region', { name: 'This conversation' });
    await conversation.getByRole('listitem').nth(1).waitFor();
    assert.equal(await conversation.getByRole('listitem').count(), 2);
    assert.match(await conversation.getByRole('listitem').first().innerText(), /from Ann Lee/);
    assert.deepEqual(await axeViolations(cy), [], 'message in a conversation');
    await screenshot(cy, '12b-conversation');
    assert.deepEqual(cy.errors, []);
  });
});

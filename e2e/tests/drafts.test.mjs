// Drafts (issue 16): what Ann writes is saved as she writes, with its file, sealed on the
// server. She closes the tab, signs in again later, finds it in Drafts, finishes it and sends
// it; Bob reads it with the file. A draft she does not want goes with "Discard" (asked twice),
// from the Drafts box or from the compose page, by mouse or keyboard.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { axeViolations, launchBrowser, newPage, screenshot } from '../support/browser.mjs';
import { PASSWORD } from '../support/people.mjs';
import { startSealpost } from '../support/sealpost.mjs';
import { signIn } from '../support/staff.mjs';

const ANN = 'ann@testshire.gov.uk';
const BOB = 'bob@testshire.gov.uk';

async function saved(page) {
  await page.getByRole('status').filter({ hasText: 'Draft saved' }).waitFor();
}

describe('drafts', () => {
  let sealpost;
  let browser;

  before(async () => {
    sealpost = await startSealpost();
    browser = await launchBrowser();
    for (const [email, name] of [[ANN, 'Ann Lee'], [BOB, 'Bob Hale']]) {
      sealpost.cli(['user', 'add', '--email', email, '--name', name, '--password-stdin'], PASSWORD);
    }
  });

  after(async () => {
    await browser?.close();
    await sealpost?.stop();
  });

  test('a draft is saved as it is written, survives closing the tab, and is finished and sent later', async () => {
    const ann = await newPage(browser);
    await signIn(ann, sealpost.base, ANN);
    await ann.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Drafts' }).click();
    await ann.getByRole('heading', { name: 'No drafts' }).waitFor();
    assert.deepEqual(await axeViolations(ann), [], 'drafts, empty');
    await screenshot(ann, '16-drafts-empty');

    await ann.goto(`${sealpost.base}/compose`);
    await ann.getByLabel('To').fill(BOB);
    await ann.keyboard.press('Enter');
    await ann.getByLabel('Subject').fill('Home visit notes');
    await ann.getByLabel('Message').fill('Notes from the visit on Tuesday:');
    const path = join(mkdtempSync(join(tmpdir(), 'sealpost-files-')), 'visit notes.txt');
    writeFileSync(path, 'Tuesday: all well.\n');
    await ann.setInputFiles('#files', path);
    await ann.getByRole('list', { name: 'Attached files' }).getByText('visit notes.txt').waitFor();
    await saved(ann);
    // The last words typed are saved too, within seconds.
    const save = ann.waitForResponse((r) => r.url().includes('/api/v1/drafts/') && r.request().method() === 'PUT');
    await ann.getByLabel('Message').fill('Notes from the visit on Tuesday: the family is settled.');
    assert.equal((await save).status(), 200);
    assert.deepEqual(await axeViolations(ann), [], 'compose with a saved draft');
    await screenshot(ann, '16-compose-draft');
    // The tab is closed (the whole browser window, cookies and all).
    await ann.context().close();

    const later = await newPage(browser);
    await signIn(later, sealpost.base, ANN);
    await later.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Drafts' }).click();
    const row = later.getByRole('row').filter({ hasText: 'Home visit notes' });
    await row.waitFor();
    assert.match(await row.innerText(), /bob@testshire\.gov\.uk/);
    assert.match(await row.innerText(), /1 file/);
    assert.deepEqual(await axeViolations(later), [], 'drafts');
    await screenshot(later, '16-drafts');
    await row.getByRole('link', { name: 'Home visit notes' }).click();
    await later.waitForFunction(() => document.querySelector('#subject')?.value === 'Home visit notes');
    assert.equal(await later.getByLabel('Message').inputValue(), 'Notes from the visit on Tuesday: the family is settled.');
    assert.match(await later.getByRole('list', { name: 'Recipients', exact: true }).innerText(), /bob@testshire\.gov\.uk/);
    await later.getByRole('list', { name: 'Attached files' }).getByText('visit notes.txt').waitFor();
    await later.getByLabel('Message').fill('Notes from the visit on Tuesday: the family is settled. Next visit in May.');
    await later.getByRole('button', { name: 'Send securely' }).click();
    const confirm = later.getByRole('button', { name: 'Yes, send it' });
    const delivery = later.getByRole('heading', { level: 2, name: 'Delivery' });
    await confirm.or(delivery).first().waitFor();
    if (await confirm.isVisible()) await confirm.click();
    await delivery.waitFor();
    await later.goto(`${sealpost.base}/drafts`);
    await later.getByRole('heading', { name: 'No drafts' }).waitFor();

    const bob = await newPage(browser);
    await signIn(bob, sealpost.base, BOB);
    await bob.getByRole('link', { name: /Home visit notes/ }).click();
    await bob.getByRole('heading', { level: 1, name: 'Home visit notes' }).waitFor();
    const article = await bob.getByRole('article').innerText();
    assert.match(article, /Next visit in May\./);
    assert.match(article, /visit notes\.txt/);
    for (const page of [later, bob]) assert.deepEqual(page.errors, []);
  });

  test('a draft is discarded from the Drafts box by keyboard, or from the compose page', async () => {
    const ann = await newPage(browser);
    await signIn(ann, sealpost.base, ANN);
    for (const subject of ['Wrong case', 'Second thoughts']) {
      await ann.goto(`${sealpost.base}/compose`);
      await ann.getByLabel('Subject').fill(subject);
      await saved(ann);
    }
    // From the compose page: "Discard draft" goes to the Drafts box, which says so.
    await ann.getByRole('button', { name: 'Discard draft' }).click();
    await ann.getByRole('heading', { level: 1, name: 'Drafts' }).waitFor();
    await ann.getByRole('status').filter({ hasText: 'Draft discarded.' }).waitFor();
    assert.equal(await ann.getByRole('row').filter({ hasText: 'Second thoughts' }).count(), 0);
    // From the box, by keyboard: Discard, then the question, answered with Enter.
    await ann.getByRole('button', { name: 'Discard the draft “Wrong case”' }).focus();
    await ann.keyboard.press('Enter');
    const yes = ann.getByRole('button', { name: 'Yes, discard “Wrong case”' });
    await yes.waitFor();
    assert.equal(await yes.evaluate((b) => b === document.activeElement), true, 'the question has the focus');
    assert.deepEqual(await axeViolations(ann), [], 'drafts, asking');
    await ann.keyboard.press('Enter');
    await ann.getByRole('heading', { name: 'No drafts' }).waitFor();
    await ann.goto(`${sealpost.base}/drafts`);
    await ann.getByRole('heading', { name: 'No drafts' }).waitFor();
    assert.deepEqual(ann.errors, []);
  });
});

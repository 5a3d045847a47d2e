// Searching your own mail (issue 16): Ann finds a message by a word of its body, narrows to
// what Bob sent her, and finds a draft; a colleague's matching mail never shows. Then by
// keyboard alone, and at a phone's width.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { assertFitsWidth, axeViolations, launchBrowser, newPage, screenshot } from '../support/browser.mjs';
import { PASSWORD } from '../support/people.mjs';
import { startSealpost } from '../support/sealpost.mjs';
import { sendMessage, signIn } from '../support/staff.mjs';

const ANN = 'ann@testshire.gov.uk';
const BOB = 'bob@testshire.gov.uk';
const CY = 'cy@testshire.gov.uk';

async function subjects(page) {
  const rows = page.getByRole('table').getByRole('row');
  const texts = await rows.allInnerTexts();
  return texts.slice(1).map((t) => t.split('\t')[2]?.trim());
}

describe('search', () => {
  let sealpost;
  let browser;

  before(async () => {
    sealpost = await startSealpost();
    browser = await launchBrowser();
    for (const [email, name] of [[ANN, 'Ann Lee'], [BOB, 'Bob Hale'], [CY, 'Cy Ng']]) {
      sealpost.cli(['user', 'add', '--email', email, '--name', name, '--password-stdin'], PASSWORD);
    }
  });

  after(async () => {
    await browser?.close();
    await sealpost?.stop();
  });

  test('staff find their own mail and drafts by word, correspondent and box, and nobody else\'s', async () => {
    const bob = await newPage(browser);
    await signIn(bob, sealpost.base, BOB);
    await sendMessage(bob, sealpost.base, { to: [ANN], subject: 'Hostel places', body: 'Two places free at the Elm Street hostel.' });
    const cy = await newPage(browser);
    await signIn(cy, sealpost.base, CY);
    await sendMessage(cy, sealpost.base, { to: [BOB], subject: 'Elm Street repairs', body: 'Not for Ann.' });
    const ann = await newPage(browser);
    await signIn(ann, sealpost.base, ANN);
    await sendMessage(ann, sealpost.base, { to: [BOB], subject: 'Re: Hostel places', body: 'Thanks: Elm Street it is.' });
    await ann.goto(`${sealpost.base}/compose`);
    await ann.getByLabel('Subject').fill('Elm Street follow-up');
    await ann.getByRole('status').filter({ hasText: 'Draft saved' }).waitFor();

    await ann.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Search' }).click();
    await ann.getByRole('heading', { level: 1, name: 'Search your mail' }).waitFor();
    assert.deepEqual(await axeViolations(ann), [], 'search, before searching');
    await ann.getByLabel('Words').fill('elm street');
    await ann.getByRole('button', { name: 'Search', exact: true }).click();
    await ann.getByRole('status').filter({ hasText: '3 found.' }).waitFor();
    assert.deepEqual(await subjects(ann), ['Elm Street follow-up', 'Re: Hostel places', 'Hostel places']);
    assert.match(ann.url(), /\/search\?q=elm%20street$/);
    assert.deepEqual(await axeViolations(ann), [], 'search results');
    await screenshot(ann, '17-search');

    // What Bob sent her, in the Inbox only.
    await ann.getByLabel('From or to').fill('bob');
    await ann.getByLabel('Look in').selectOption('inbox');
    await ann.getByRole('button', { name: 'Search', exact: true }).click();
    await ann.getByRole('status').filter({ hasText: '1 found.' }).waitFor();
    assert.deepEqual(await subjects(ann), ['Hostel places']);
    await ann.getByRole('link', { name: 'Hostel places' }).click();
    await ann.getByRole('heading', { level: 1, name: 'Hostel places' }).waitFor();
    // Back returns to the results.
    await ann.goBack();
    await ann.getByRole('status').filter({ hasText: '1 found.' }).waitFor();

    // Nothing found says what to try.
    await ann.goto(`${sealpost.base}/search?q=repairs`);
    await ann.getByRole('heading', { name: 'No messages match' }).waitFor();
    assert.deepEqual(await axeViolations(ann), [], 'search, nothing found');
    for (const page of [ann, bob, cy]) assert.deepEqual(page.errors, []);
  });

  test('search works by keyboard alone and fits a phone', async () => {
    const ann = await newPage(browser, { viewport: { width: 390, height: 844 } });
    await signIn(ann, sealpost.base, ANN);
    await ann.goto(`${sealpost.base}/search`);
    await ann.getByLabel('Words').focus();
    await ann.keyboard.type('hostel');
    await ann.keyboard.press('Enter');
    await ann.getByRole('status').filter({ hasText: '2 found.' }).waitFor();
    await assertFitsWidth(ann, 'search on a phone');
    assert.deepEqual(await axeViolations(ann), [], 'search on a phone');
    await screenshot(ann, 'phone-search');
    assert.deepEqual(ann.errors, []);
  });
});

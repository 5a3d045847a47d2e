// Folders (issue 16): Bob archives one message and deletes another from their pages; his Inbox
// says where each went, the Archive and Deleted boxes list them, and "Empty Deleted now"
// empties it. Ann, who sent them, still sees both in Sent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { axeViolations, launchBrowser, newPage, screenshot } from '../support/browser.mjs';
import { PASSWORD } from '../support/people.mjs';
import { startSealpost } from '../support/sealpost.mjs';
import { sendMessage, signIn } from '../support/staff.mjs';

const ANN = 'ann@testshire.gov.uk';
const BOB = 'bob@testshire.gov.uk';

describe('folders', () => {
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

  test('a colleague archives and deletes his own view of messages, and empties Deleted', async () => {
    const ann = await newPage(browser);
    await signIn(ann, sealpost.base, ANN);
    await sendMessage(ann, sealpost.base, { to: [BOB], subject: 'Keep for the file', body: 'Case notes.' });
    await sendMessage(ann, sealpost.base, { to: [BOB], subject: 'Room booking', body: 'Room 4 is free.' });

    const bob = await newPage(browser);
    await signIn(bob, sealpost.base, BOB);
    for (const [subject, button, said] of [['Keep for the file', 'Archive', 'Message archived'], ['Room booking', 'Delete', 'Message deleted']]) {
      await bob.getByRole('link', { name: subject }).click();
      await bob.getByRole('heading', { level: 1, name: subject }).waitFor();
      await bob.getByRole('button', { name: button, exact: true }).click();
      await bob.getByRole('status').filter({ hasText: said }).waitFor();
      assert.equal(await bob.getByRole('link', { name: subject }).count(), 0, `${subject} left the Inbox`);
    }
    await bob.getByRole('navigation', { name: 'Folders' }).getByRole('link', { name: 'Archive' }).click();
    await bob.getByRole('link', { name: 'Keep for the file' }).waitFor();
    assert.deepEqual(await axeViolations(bob), [], 'archive');
    await screenshot(bob, '19-archive');
    await bob.getByRole('navigation', { name: 'Folders' }).getByRole('link', { name: 'Deleted' }).click();
    await bob.getByRole('link', { name: 'Room booking' }).waitFor();
    assert.deepEqual(await axeViolations(bob), [], 'deleted');
    await bob.getByRole('button', { name: 'Empty Deleted now' }).click();
    await bob.getByRole('heading', { name: 'Deleted is empty' }).waitFor();
    await bob.reload();
    await bob.getByRole('heading', { name: 'Nothing deleted' }).waitFor();

    await ann.goto(`${sealpost.base}/sent`);
    await ann.getByRole('link', { name: 'Room booking' }).waitFor();
    await ann.getByRole('link', { name: 'Keep for the file' }).waitFor();
    for (const page of [ann, bob]) assert.deepEqual(page.errors, []);
  });
});

// The marking policy (issue 20), as a partner meets it: under a council whose OFFICIAL files are
// view-only, the partner's message page says so and each file opens in a new tab, shown by the
// browser (here, text) and never downloaded; the compose page says the policy beside the marking.
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
import { sendMessage, signIn } from '../support/staff.mjs';

const ANN = 'ann@testshire.gov.uk';
const PARTNER = 'school.office@school.example.uk';

describe('the marking policy', () => {
  let sink;
  let sealpost;
  let browser;

  before(async () => {
    sink = await startSmtpSink();
    sealpost = await startSealpost({
      env: { SEALPOST_SMTP_URL: sink.url, SEALPOST_POLICY_OFFICIAL_FILES: 'view', SEALPOST_POLICY_OFFICIAL_MAX_EXPIRY_DAYS: '14' },
    });
    browser = await launchBrowser();
    sealpost.cli(['user', 'add', '--email', ANN, '--name', 'Ann Lee', '--password-stdin'], PASSWORD);
  });

  after(async () => {
    await browser?.close();
    await sealpost?.stop();
    await sink?.stop();
  });

  test('view-only files open in the browser, never as a download, and the compose page says the policy', async () => {
    const ann = await newPage(browser);
    await signIn(ann, sealpost.base, ANN);
    await ann.goto(`${sealpost.base}/compose`);
    await ann.getByText('OFFICIAL: links work for at most 14 days; they can view its files but not download them.').waitFor();

    const path = join(mkdtempSync(join(tmpdir(), 'sealpost-files-')), 'timetable.txt');
    writeFileSync(path, 'Monday: maths\nTuesday: science\n');
    const reference = await sendMessage(ann, sealpost.base, { to: [PARTNER], subject: 'Timetable', body: 'Attached.', files: [path] });
    const mail = await sink.waitFor(PARTNER, reference);
    const link = mail.match(new RegExp(`${sealpost.base}/s/[0-9a-f]{64}`))[0];

    const partner = await newPage(browser);
    await partnerOpens(partner, sink, { link, address: PARTNER, subject: 'Timetable' });
    await partner.getByText('The council lets you view these files in your browser, not download them.').waitFor();
    assert.deepEqual(await axeViolations(partner), [], 'a view-only message in the portal');
    await screenshot(partner, '34-view-only-files');
    let downloaded = false;
    partner.on('download', () => { downloaded = true; });
    const [tab] = await Promise.all([
      partner.context().waitForEvent('page'),
      partner.getByRole('link', { name: 'timetable.txt (view)' }).click(),
    ]);
    await tab.waitForLoadState();
    assert.match(await tab.locator('body').innerText(), /Monday: maths/);
    assert.equal(downloaded, false, 'nothing was downloaded');
  });
});

// Outlook intake (issue 18): Ann writes in Outlook with [secure] in the subject; Exchange's
// connector hands it to Sealpost's SMTP intake (here swaks, speaking SMTP as Exchange does).
// The partner's notification arrives with a link only; the partner reads the message in the
// portal and replies; Ann finds the reply in her Inbox.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';

import { axeViolations, launchBrowser, newPage, screenshot } from '../support/browser.mjs';
import { partnerOpens } from '../support/partner.mjs';
import { PASSWORD } from '../support/people.mjs';
import { freePort, startSealpost } from '../support/sealpost.mjs';
import { startSmtpSink } from '../support/smtp-sink.mjs';
import { signIn } from '../support/staff.mjs';

const ANN = 'ann@testshire.gov.uk';
const PARTNER = 'duty.manager@hospital.example.uk';

describe('sending from Outlook', () => {
  let sink;
  let sealpost;
  let browser;
  let intakePort;

  before(async () => {
    sink = await startSmtpSink();
    intakePort = await freePort();
    sealpost = await startSealpost({ env: { SEALPOST_SMTP_URL: sink.url, SEALPOST_INTAKE_LISTEN: `127.0.0.1:${intakePort}` } });
    browser = await launchBrowser();
    sealpost.cli(['user', 'add', '--email', ANN, '--name', 'Ann Lee', '--password-stdin'], PASSWORD);
  });

  after(async () => {
    await browser?.close();
    await sealpost?.stop();
    await sink?.stop();
  });

  test('tagged mail from Outlook reaches a partner by link, who reads it and replies', async () => {
    const swaks = spawnSync('swaks', [
      '--server', '127.0.0.1', '--port', String(intakePort), '--helo', 'exchange.testshire.gov.uk',
      '--from', ANN, '--to', PARTNER,
      '--header', `From: Ann Lee <${ANN}>`, '--header', `To: ${PARTNER}`,
      '--header', 'Subject: [secure] Discharge plan for case 3318',
      '--body', 'Please see the discharge plan below.\nAnn',
    ], { encoding: 'utf8' });
    assert.equal(swaks.status, 0, swaks.stdout + swaks.stderr);
    const reference = swaks.stdout.match(/250 2\.0\.0 Sent securely as (SP-[A-Z0-9]{4}-[A-Z0-9]{4})/)[1];

    const notification = await sink.waitFor(PARTNER, reference);
    assert.ok(!notification.includes('Discharge plan') && !notification.includes('discharge plan'), 'link only, no content');
    const link = notification.match(new RegExp(`${sealpost.base}/s/[0-9a-f]{64}`))[0];

    const partner = await newPage(browser);
    await partnerOpens(partner, sink, { link, address: PARTNER, subject: 'Discharge plan for case 3318' });
    assert.match(await partner.getByRole('main').innerText(), /Please see the discharge plan below\./);
    assert.deepEqual(await axeViolations(partner), [], 'portal message from Outlook');
    await screenshot(partner, '22-intake-portal');
    await partner.getByLabel('Your reply').fill('Received, thank you. We will follow the plan.');
    await partner.getByRole('button', { name: 'Send reply securely' }).click();
    await partner.getByText('Your reply has been sent securely.').waitFor();

    const ann = await newPage(browser);
    await signIn(ann, sealpost.base, ANN);
    const row = ann.getByRole('row', { name: /Discharge plan for case 3318/ });
    await row.getByRole('link').click();
    const thread = ann.getByRole('region', { name: '1 secure reply' });
    await thread.getByRole('heading', { level: 3, name: `Reply from ${PARTNER}` }).waitFor();
    assert.match(await thread.innerText(), /We will follow the plan\./);
    assert.deepEqual(partner.errors, []);
    assert.deepEqual(ann.errors, []);
  });

  test('untagged mail is refused with a reason the sender can act on', () => {
    const swaks = spawnSync('swaks', [
      '--server', '127.0.0.1', '--port', String(intakePort),
      '--from', ANN, '--to', PARTNER, '--header', `From: ${ANN}`, '--header', 'Subject: no tag', '--body', 'x',
    ], { encoding: 'utf8' });
    assert.notEqual(swaks.status, 0);
    assert.match(swaks.stdout, /550 5\.7\.1 Sealpost takes only mail tagged \[secure\] in the subject/);
  });
});

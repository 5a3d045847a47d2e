// Single sign-on (issue 17): a council that signs staff in through Entra ID turns password
// sign-in off. A member of staff signs in with their council account at the (real, test)
// identity provider and lands in their Inbox; someone the provider knows but Sealpost does not
// is told to ask IT; the administrator can still use a password. axe on every page, desktop
// and phone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { assertFitsWidth, axeViolations, launchBrowser, newPage, screenshot } from '../support/browser.mjs';
import { CLIENT_ID, CLIENT_SECRET, issuerOn, startIdp } from '../support/oidc.mjs';
import { PASSWORD } from '../support/people.mjs';
import { freePort, startSealpost } from '../support/sealpost.mjs';

const ANN = 'ann@testshire.gov.uk';
const IT = 'it@testshire.gov.uk';

// At the provider's page: the address, then Next, as at Microsoft's.
async function atProvider(page, email) {
  await page.getByRole('heading', { level: 1, name: 'Sign in to your account' }).waitFor();
  await page.getByLabel('Email, phone or Skype').fill(email);
  await page.getByRole('button', { name: 'Next' }).click();
}

describe('single sign-on', () => {
  let sealpost;
  let idp;
  let browser;

  before(async () => {
    const idpPort = await freePort();
    sealpost = await startSealpost({
      env: {
        SEALPOST_OIDC_ISSUER: issuerOn(idpPort),
        SEALPOST_OIDC_CLIENT_ID: CLIENT_ID,
        SEALPOST_OIDC_CLIENT_SECRET: CLIENT_SECRET,
        SEALPOST_PASSWORD_LOGIN: 'false',
      },
    });
    idp = await startIdp({ port: idpPort, redirectUri: `${sealpost.base}/api/v1/auth/sso/callback` });
    browser = await launchBrowser();
    sealpost.cli(['user', 'add', '--email', ANN, '--name', 'Ann Lee', '--password-stdin'], PASSWORD);
    sealpost.cli(['user', 'add', '--email', IT, '--name', 'Ivy Tran', '--role', 'admin', '--password-stdin'], PASSWORD);
  });

  after(async () => {
    await browser?.close();
    await idp?.stop();
    await sealpost?.stop();
  });

  test('a member of staff signs in with their council account and lands in their Inbox', async () => {
    const page = await newPage(browser);
    await page.goto(`${sealpost.base}/inbox`);
    const sso = page.getByRole('link', { name: 'Sign in with your council account' });
    await sso.waitFor();
    // Password sign-in is off: the form is folded away for IT's recovery use.
    assert.equal(await page.getByLabel('Password').isVisible(), false);
    assert.deepEqual(await axeViolations(page), [], 'sign-in with SSO');
    await screenshot(page, '21-sso-sign-in');
    await sso.click();
    await atProvider(page, ANN);
    await page.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();
    assert.equal(new URL(page.url()).origin, sealpost.base);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await sso.waitFor();
  });

  test('someone without a Sealpost account is told to ask IT, on a phone', async () => {
    const phone = await newPage(browser, { viewport: { width: 390, height: 844 } });
    await phone.goto(`${sealpost.base}/signin`);
    await phone.getByRole('link', { name: 'Sign in with your council account' }).click();
    await atProvider(phone, 'new.starter@testshire.gov.uk');
    await phone.getByRole('alert').getByText('Your council account has no Sealpost account').waitFor();
    assert.equal(new URL(phone.url()).pathname, '/signin');
    assert.deepEqual(await axeViolations(phone), [], 'refused sign-in');
    await assertFitsWidth(phone, 'refused sign-in on a phone');
    await screenshot(phone, '21-sso-no-account-phone');
  });

  test('the administrator can still sign in with a password; staff cannot', async () => {
    const page = await newPage(browser);
    await page.goto(`${sealpost.base}/signin`);
    await page.getByText('IT administrators: sign in with a password').click();
    await page.getByLabel('Email address').fill(ANN);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').getByText('Sign in with your council account').waitFor();
    await page.getByLabel('Email address').fill(IT);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Admin' }).waitFor();
  });
});

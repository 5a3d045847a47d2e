// What staff do in the browser, shared by the journeys: sign in, and send a secure message.
import { PASSWORD } from './people.mjs';

// Signs in from the inbox's address and waits for the page the person starts on: the Inbox,
// or the Audit log for an IG officer.
export async function signIn(page, base, email, { lands = 'Inbox' } = {}) {
  await page.goto(`${base}/inbox`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: lands }).waitFor();
}

// Opens the compose page and fills in the recipients, subject and message.
export async function compose(page, base, { to, subject, body }) {
  await page.goto(`${base}/compose`);
  await page.getByRole('heading', { level: 1, name: 'Write a secure message' }).waitFor();
  for (const address of to) {
    await page.getByLabel('To').fill(address);
    await page.keyboard.press('Enter');
  }
  await page.getByLabel('Subject').fill(subject);
  await page.getByLabel('Message').fill(body);
}

// Composes and sends from a signed-in page, confirming new addresses; returns the reference.
export async function sendMessage(page, base, { to, subject, body, files = [] }) {
  await compose(page, base, { to, subject, body });
  if (files.length) {
    // Chosen files upload to the draft at once; Send waits until they are attached.
    await page.setInputFiles('#files', files);
    await page.getByRole('list', { name: 'Attached files' }).getByRole('listitem').nth(files.length - 1).waitFor();
  }
  await page.getByRole('button', { name: 'Send securely' }).click();
  const confirm = page.getByRole('button', { name: 'Yes, send it' });
  const delivery = page.getByRole('heading', { level: 2, name: 'Delivery' });
  await confirm.or(delivery).first().waitFor();
  if (await confirm.isVisible()) await confirm.click();
  await delivery.waitFor();
  return (await page.getByRole('status').innerText()).match(/SP-[A-Z0-9]{4}-[A-Z0-9]{4}/)[0];
}

// What an outside partner does in the browser: open the link from their notification, ask for
// a code, read it from the SMTP sink and enter it, until the message itself is shown.
export async function partnerOpens(page, sink, { link, address, subject }) {
  await page.goto(link);
  await page.getByRole('button', { name: 'Send me a code' }).click();
  await page.getByRole('heading', { level: 1, name: 'Enter your code' }).waitFor();
  const code = (await sink.waitFor(address, 'confirmation code is')).match(/code is:\s+(\d{6})/)[1];
  await page.getByLabel('Code from the email').fill(code);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { level: 1, name: subject }).waitFor();
}

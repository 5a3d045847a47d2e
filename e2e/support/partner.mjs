// What an outside partner does in the browser: open the link from their notification, ask for
// a code, read it from the SMTP sink and enter it, until the message itself is shown. The code
// read is the one this visit asked for, not an older one from an earlier visit.
export async function partnerOpens(page, sink, { link, address, subject }) {
  const isCode = (m) => m.toLowerCase().includes(`to: ${address}`) && m.includes('confirmation code is');
  const earlier = new Set(sink.messages().filter(isCode));
  await page.goto(link);
  await page.getByRole('button', { name: 'Send me a code' }).click();
  await page.getByRole('heading', { level: 1, name: 'Enter your code' }).waitFor();
  let mail;
  for (const until = Date.now() + 20_000; !mail; await new Promise((r) => setTimeout(r, 200))) {
    mail = sink.messages().find((m) => isCode(m) && !earlier.has(m));
    if (!mail && Date.now() > until) throw new Error(`no new code for ${address}`);
  }
  const code = mail.match(/code is:\s+(\d{6})/)[1];
  await page.getByLabel('Code from the email').fill(code);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { level: 1, name: subject }).waitFor();
}

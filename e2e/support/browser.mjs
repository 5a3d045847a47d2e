// Debian's Chromium driven by playwright-core (never a downloaded browser), screenshots kept
// under e2e/artifacts/, and an axe-core scan against WCAG 2.2 AA.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const ARTIFACTS = new URL('../artifacts/', import.meta.url).pathname;
mkdirSync(ARTIFACTS, { recursive: true });

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// A new page that fails the test on any uncaught script error.
export async function newPage(browser, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  return page;
}

export async function screenshot(page, name) {
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

// Runs axe-core in the page (evaluated over the DevTools protocol, so the page's strict CSP
// stays on) and returns the violations, formatted for a readable assertion message.
export async function axeViolations(page) {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
    });
    return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  });
  return violations;
}

// Fails when the page is wider than its viewport, i.e. would scroll sideways (WCAG 1.4.10
// reflow), naming the widest element that sticks out.
export async function assertFitsWidth(page, label) {
  const { width, viewport, culprit } = await page.evaluate(() => {
    const viewport = document.documentElement.clientWidth;
    let culprit = '';
    let widest = viewport;
    for (const el of document.querySelectorAll('body *')) {
      const right = el.getBoundingClientRect().right;
      if (right > widest + 0.5) {
        widest = right;
        culprit = `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${[...el.classList].join('.')} (${Math.round(right)} px)`;
      }
    }
    return { width: document.documentElement.scrollWidth, viewport, culprit };
  });
  if (width > viewport) {
    throw new Error(`${label}: the page is ${width} px wide in a ${viewport} px viewport; widest: ${culprit}`);
  }
}

// The seed flow in headless Chromium (playwright-core, Debian's /usr/bin/chromium): sign in to
// Photo Printer with Tessera as alice, allow, and end on her photos; then again, deny, and end on
// Photo Printer's access_denied page. Each final page is saved as a screenshot.
//
//   node flow.mjs APP_URL OUT_DIR
//
// APP_URL is the URL the seed_flow example prints; OUT_DIR holds node_modules/playwright-core
// (npm install --prefix OUT_DIR playwright-core@1) and receives allowed.png and denied.png.
// run.sh starts the demo and calls this.
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const [appUrl, outDir] = process.argv.slice(2);
if (!appUrl || !outDir) {
  console.error('usage: node flow.mjs APP_URL OUT_DIR');
  process.exit(2);
}
const require = createRequire(join(resolve(outDir), 'package.json'));
const { chromium } = require('playwright-core');

function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
}

/** One sign-in in a fresh browser context (no cookies): `decision` is 'Allow' or 'Deny'. */
async function signIn(browser, decision, screenshot) {
  const context = await browser.newContext();
  const page = await context.newPage();
  // Generous: CI machines are shared, and a cold Chromium is slow to paint its first page.
  page.setDefaultTimeout(30000);
  try {
    await page.goto(appUrl);
    await page.getByRole('button', { name: 'Sign in with Tessera' }).click();
    // Tessera's authorization endpoint sends the browser on to the login app.
    await page.waitForURL(/\/login\?login_challenge=tsr_lc_/);
    check((await page.textContent('body')).includes('Photo Printer'), 'the login page names the client');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('wonderland');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    check((await page.textContent('#scope')).includes('photos.read'), 'the consent page shows the scope');
    await page.getByRole('button', { name: decision }).click();
    // Back at Photo Printer, on the callback (denied) or on the photos page (allowed).
    await page.waitForURL((url) => url.href.startsWith(appUrl));
    await page.waitForLoadState();
    const heading = await page.textContent('h1');
    const body = await page.textContent('body');
    if (decision === 'Allow') {
      check(new URL(page.url()).pathname === '/photos', `ends on /photos, not ${page.url()}`);
      check(heading === "alice's photos", `heading "${heading}"`);
      check(await page.locator('#photos li').count() === 3, 'three photos listed');
      check(body.includes('The Cheshire Cat'), 'a photo title is shown');
    } else {
      check(heading === 'Access denied', `heading "${heading}"`);
      check(new URL(page.url()).searchParams.get('error') === 'access_denied', 'error=access_denied');
    }
    check(!/tsr_(at|rt|ac|cs|op)_/.test(body), 'no token, code or secret on the page');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`${decision}: "${heading}" at ${new URL(page.url()).pathname}, screenshot ${screenshot}`);
  } catch (e) {
    const failure = join(outDir, `failed-${decision.toLowerCase()}`);
    await page.screenshot({ path: `${failure}.png`, fullPage: true }).catch(() => {});
    await writeFile(`${failure}.html`, await page.content().catch(() => '')).catch(() => {});
    console.error(`${decision}: failed on ${page.url()} (its page: ${failure}.png, ${failure}.html)`);
    throw e;
  } finally {
    await context.close();
  }
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox'],
});
try {
  await signIn(browser, 'Allow', join(outDir, 'allowed.png'));
  await signIn(browser, 'Deny', join(outDir, 'denied.png'));
} finally {
  await browser.close();
}

/**
 * The machine's Chromium (Debian's package; `npx playwright install` cannot download browsers here), driven by
 * playwright-core for the browser tests. CHROMIUM_PATH overrides where it is.
 */
import { chromium, type Browser } from 'playwright-core';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

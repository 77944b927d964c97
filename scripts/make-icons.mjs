#!/usr/bin/env node
// Renders assets/icon.svg into the PNG set electron-builder takes for Linux (assets/icons/NxN.png,
// the hicolor sizes a desktop picks from) with the Chromium the e2e tests use, so no image tool
// has to be installed. The PNGs are committed; run this again after changing the SVG.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from '@playwright/test';

export const ICON_SIZES = [16, 24, 32, 48, 64, 128, 256, 512];
const root = new URL('..', import.meta.url).pathname;
const executablePath = process.env.GATEHOUSE_E2E_CHROMIUM || '/usr/bin/chromium';

const svg = readFileSync(join(root, 'assets', 'icon.svg'), 'utf8');
const outDir = join(root, 'assets', 'icons');
mkdirSync(outDir, { recursive: true });
const browser = await chromium.launch({ executablePath, headless: true });
try {
  for (const size of ICON_SIZES) {
    const page = await browser.newPage({ viewport: { width: size, height: size }, deviceScaleFactor: 1 });
    const src = `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
    await page.setContent(
      `<html><body style="margin:0;background:transparent"><img src="${src}" width="${size}" height="${size}"></body></html>`,
    );
    await page.locator('img').screenshot({ path: join(outDir, `${size}x${size}.png`), omitBackground: true });
    await page.close();
  }
} finally {
  await browser.close();
}
console.log(`make-icons: wrote ${ICON_SIZES.map((s) => `${s}x${s}.png`).join(', ')} to assets/icons`);

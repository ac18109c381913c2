/** Headless Debian Chromium for the report tests: file:// only, every other request blocked, console errors collected. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface OpenedPage {
  page: Page;
  errors: string[];
  blocked: string[];
  dialogs: string[];
}

export class HeadlessChromium {
  private context?: BrowserContext;
  private profile?: string;

  async start(): Promise<void> {
    this.profile = await mkdtemp(join(tmpdir(), 'report-chromium-'));
    // A fresh profile per run: playwright passes it to Chromium as --user-data-dir.
    this.context = await chromium.launchPersistentContext(this.profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1366, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }

  async open(file: string): Promise<OpenedPage> {
    if (!this.context) throw new Error('browser not started');
    const page = await this.context.newPage();
    const errors: string[] = [];
    const blocked: string[] = [];
    const dialogs: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      blocked.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    return { page, errors, blocked, dialogs };
  }

  async stop(): Promise<void> {
    await this.context?.close().catch(() => undefined);
    if (this.profile) await rm(this.profile, { recursive: true, force: true });
    this.context = undefined;
  }
}

export function artifactsDir(): string {
  return process.env.ARTIFACTS_DIR ?? join(process.cwd(), 'artifacts');
}

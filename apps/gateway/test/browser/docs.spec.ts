import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_ID, AUTH_TOKEN, startTestGateway, type TestGateway } from '../support/gateway.js';

/** Debian's chromium; a browser is never downloaded. */
const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const missing = `${CHROMIUM} not found: install it with \`apt-get install chromium\``;
// CI installs chromium, so there a missing browser fails the suite instead of skipping it.
const skip = !haveChromium && !process.env.CI;
if (skip) console.warn(`Swagger UI browser test skipped: ${missing}.`);

describe.skipIf(skip)('Swagger UI at /docs', { timeout: 60_000 }, () => {
  let gateway: TestGateway | undefined;
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`${missing}; CI must run the Swagger UI browser test.`);
    gateway = await startTestGateway();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage();
  }, 60_000);

  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await gateway?.stop();
    }
  }, 60_000);

  it('serves the OpenAPI 3.1 document at /openapi.json', async () => {
    const response = await fetch(`${gateway!.url}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as { openapi: string; servers: unknown };
    expect(document.openapi).toBe('3.1.0');
    expect(document.servers).toEqual([expect.objectContaining({ url: '/' })]);
  });

  it('lists the operations and runs listMpcs live after authorizing', async () => {
    await page.goto(`${gateway!.url}/docs`);

    // 1. The operations and their tags are rendered.
    await page.locator('.opblock').first().waitFor();
    for (const tag of ['MultiPartyCall', 'Participant', 'Recording']) {
      await page.locator(`.opblock-tag[data-tag="${tag}"]`).waitFor();
    }
    await page.getByText('startMpcRecording', { exact: true }).first().waitFor();
    await page.getByText('Start recording a multiparty call').first().waitFor();

    // 2. Authorize with HTTP basic.
    await page.locator('.auth-wrapper .authorize').click();
    const dialog = page.locator('.dialog-ux .modal-ux');
    await dialog.waitFor();
    await dialog.locator('input[type="text"]').first().fill(AUTH_ID);
    await dialog.locator('input[type="password"]').first().fill(AUTH_TOKEN);
    await dialog.getByRole('button', { name: 'Apply credentials' }).click();
    await dialog.getByRole('button', { name: 'Remove authorization' }).waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });

    // 3. Expand GET /v1/Account/{auth_id}/MultiPartyCall/, try it out and execute.
    const operation = page.locator('#operations-MultiPartyCall-listMpcs');
    await operation.locator('.opblock-summary').first().click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    // The auth_id field keeps its example: the authorized account is put in the path.
    await operation.getByRole('button', { name: 'Execute' }).click();

    // The listing's content is the integration suite's business; here only that a live answer came.
    const live = operation.locator('.live-responses-table');
    await live.waitFor();
    const status = live.locator('.response .response-col_status').first();
    await expect.poll(async () => (await status.textContent())?.trim(), { timeout: 15_000 }).toBe('200');
    const body = (await live.locator('.response-col_description pre.microlight').first().textContent()) ?? '';
    expect(body).toContain('"objects"');
    expect(body).toContain('"api_id"');
    expect(JSON.parse(body)).toMatchObject({ api_id: expect.any(String), objects: expect.any(Array) });

    const requestUrl = (await operation.locator('.request-url pre').first().textContent())?.trim() ?? '';
    expect(requestUrl.startsWith(`${gateway!.url}/v1/Account/${AUTH_ID}/MultiPartyCall/`)).toBe(true);
  });

  it('runs add participant and start recording from "Try it out" as they come, with their examples', async () => {
    // Authorized by the test before (persistAuthorization).
    for (const [id, status] of [['Participant-addParticipant', '201'], ['MultiPartyCall-startMpcRecording', '202']] as const) {
      const operation = page.locator(`#operations-${id}`);
      await operation.locator('.opblock-summary').first().click();
      await operation.getByRole('button', { name: 'Try it out' }).click();
      await operation.getByRole('button', { name: 'Execute' }).click();
      const live = operation.locator('.live-responses-table .response .response-col_status').first();
      await expect.poll(async () => (await live.textContent())?.trim(), { timeout: 15_000 }).toBe(status);
    }
  });
});

// The Data page in Chromium, against a running llmchat (ip mode: 127.0.0.1 is an admin) whose data/ holds a
// generated dataset and whose database holds rated replies: `node e2e/data.mjs http://127.0.0.1:PORT [shot dir]`.
// With a screenshot dir it also writes data-light.png, data-dark.png and data-phone.png there.
import path from 'node:path'
import { assert, createRunner, launch, openPage, scriptArgs } from './browser.mjs'
import { axeViolations, describeViolations } from './a11y.mjs'

const { base, shotDir } = scriptArgs('data.mjs')
const GOOD = { instruction: 'Say hi.', input: '', output: 'hi' }
const WITH_BAD_ROW = [GOOD, { ...GOOD, instruction: 'Say bye.', output: 'bye' }, { instruction: 'Say nothing.' }, GOOD]
  .map((row) => JSON.stringify(row)).join('\n') + '\n'
const FIXED = [GOOD, { ...GOOD, instruction: 'Say bye.', output: 'bye' }, { ...GOOD, instruction: 'Say nothing.', output: '…' }]
  .map((row) => JSON.stringify(row)).join('\n') + '\n'

const browser = await launch()
const { page, pageErrors } = await openPage(browser, { width: 1280, height: 900 })
const step = createRunner(page)

async function chooseFile(name, text) {
  await page.locator('#upload-file').setInputFiles({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(text) })
}

async function shots() {
  if (!shotDir) return
  await page.locator('[data-testid="upload-row-errors"]').scrollIntoViewIfNeeded()
  for (const dismiss of await page.locator('.toast [aria-label="Dismiss"]').all()) await dismiss.click()
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme })
    await page.waitForTimeout(300)
    await page.screenshot({ path: path.join(shotDir, `data-${scheme}.png`) })
  }
  await page.emulateMedia({ colorScheme: 'light' })
  await page.setViewportSize({ width: 390, height: 844 })
  await page.locator('[data-testid="upload-row-errors"]').scrollIntoViewIfNeeded()
  await page.waitForTimeout(300)
  await page.screenshot({ path: path.join(shotDir, 'data-phone.png') })
  await page.setViewportSize({ width: 1280, height: 900 })
}

try {
  await step('an admin finds the Data page and its generated dataset', async () => {
    await page.goto(`${base}/`)
    await page.locator('[data-testid="data-link"]').click()
    await page.locator('[data-testid="dataset-generated/alpaca_tasks.jsonl"]').waitFor()
    assert((await page.locator('.topbar-heading').innerText()).includes('Data'), 'the page heading says Data')
  })

  await step('picking it shows the split, the token lengths against cutoff_len and the first rows', async () => {
    await page.locator('[data-testid="dataset-generated/alpaca_tasks.jsonl"] button').click()
    const split = await page.locator('[data-testid="split-sizes"]').innerText()
    assert(/train\s+23/.test(split) && /validation\s+4/.test(split) && /test\s+13/.test(split), `split: ${split}`)
    await page.locator('[data-testid="over-cutoff"]').waitFor()
    assert((await page.locator('[data-testid="token-histogram"] line.cutoff-line').count()) === 1, 'the cutoff line')
    assert((await page.locator('[data-testid="token-histogram"] rect').count()) === 16, 'sixteen length bins')
    assert((await page.locator('[data-testid="preview"] tbody tr').count()) === 20, 'twenty preview rows')
    await page.locator('#dataset-recipe').selectOption('short')
    await page.waitForFunction(() => /40 rows over cutoff_len \(24\)/.test(document.querySelector('[data-testid="over-cutoff"]')?.textContent || ''))
  })

  await step('a file with one bad row: its line and field are shown and nothing is saved', async () => {
    await chooseFile('mine.jsonl', WITH_BAD_ROW)
    assert((await page.locator('#upload-name').inputValue()) === 'mine.jsonl', 'the name comes from the file')
    await page.locator('[data-testid="upload-submit"]').click()
    const errors = await page.locator('[data-testid="upload-row-errors"]').innerText()
    assert(errors.includes('Line 3, field output: is missing'), `the row error: ${errors}`)
    assert((await page.locator('[data-testid="upload-error"]').innerText()).includes('Nothing was saved'), 'says nothing was saved')
    assert((await page.locator('[data-testid="dataset-uploads/mine.jsonl"]').count()) === 0, 'not listed')
    await noAxeViolations('data page with upload errors')
    await shots()
  })

  await step('the fixed file is saved, listed and opened', async () => {
    await chooseFile('mine.jsonl', FIXED)
    await page.locator('[data-testid="upload-submit"]').click()
    await page.locator('[data-testid="dataset-uploads/mine.jsonl"]').waitFor()
    await page.waitForFunction(() => document.querySelector('#dataset-title')?.textContent === 'uploads/mine.jsonl')
    assert((await page.locator('[data-testid="preview"] tbody tr').count()) === 3, 'its three rows')
  })

  await step('the from-chats button writes KTO rows and shows what it skipped', async () => {
    await page.locator('#chats-format').selectOption('kto')
    await page.locator('[data-testid="from-chats-submit"]').click()
    const report = await page.locator('[data-testid="skip-report"]').innerText()
    assert(/wrote 2 kto rows to data\/chats\/kto-\d{8}-\d{6}\.jsonl \(from 2 candidates\)/.test(report), `report: ${report}`)
    assert(report.includes('skipped 1: no rating: 1'), `skip report: ${report}`)
    await page.waitForFunction(() => /^chats\/kto-/.test(document.querySelector('#dataset-title')?.textContent || ''))
  })

  assert(pageErrors.length === 0, `no page errors: ${pageErrors.join('; ')}`)
  console.log('all data browser checks passed')
} finally {
  await browser.close()
}

async function noAxeViolations(where) {
  const violations = await axeViolations(page)
  assert(violations.length === 0, `${where}: axe\n  ${describeViolations(violations)}`)
}

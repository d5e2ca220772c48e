// Training runs in Chromium, against a running llmchat (ip mode: 127.0.0.1 is an admin) whose configs/train has the
// tiny-lora preset (tests/support/run_queue.py) and whose data/benchmarks has arc_easy: the New run form, a run
// drawing its loss live, stopped and resumed to the end (its log tail a line per progress bar), evaluated (test split
// and ARC-Easy), exported as GGUF + Modelfile (the merged folder with its path and models.yaml entry, to copy),
// compared and chatted with: `node e2e/runs.mjs http://127.0.0.1:PORT [screenshot dir]`. With a
// screenshot dir it also writes runs-*.png (light and dark, and phone width) there.
import path from 'node:path'
import { assert, createRunner, launch, openPage, scriptArgs } from './browser.mjs'
import { axeViolations, describeViolations } from './a11y.mjs'

const { base, shotDir } = scriptArgs('runs.mjs')
const RUN = 'browser-run'

const browser = await launch()
const { page, pageErrors } = await openPage(browser, { width: 1280, height: 900 })
const step = createRunner(page)

async function shot(name, { phone = false } = {}) {
  if (!shotDir) return
  // a toast may go by itself meanwhile (its timeout): then there is nothing to dismiss
  for (const dismiss of await page.locator('.toast [aria-label="Dismiss"]').all()) await dismiss.click({ timeout: 3000 }).catch(() => {})
  if (phone) await page.setViewportSize({ width: 390, height: 844 })
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme })
    await page.waitForTimeout(300)
    await page.screenshot({ path: path.join(shotDir, `${phone ? 'phone-' : ''}${name}-${scheme}.png`), fullPage: !phone })
  }
  await page.emulateMedia({ colorScheme: 'light' })
  if (phone) await page.setViewportSize({ width: 1280, height: 900 })
}

async function noAxeViolations(where) {
  const violations = await axeViolations(page)
  assert(violations.length === 0, `${where}: axe\n  ${describeViolations(violations)}`)
}

const runDetail = () => page.evaluate((id) => fetch(`/api/admin/runs/${id}`).then((r) => r.json()), RUN)
let early = 0 // training-loss points drawn while the run first trained

// the number of training-loss points the run page's curve draws now
const drawnPoints = () => page.evaluate(() => {
  const line = document.querySelector('[data-testid="run-loss"] .loss-line')
  return line ? line.getAttribute('points').trim().split(/\s+/).length : 0
})

try {
  await step('the New run form starts from a preset and shows the exact command', async () => {
    await page.goto(`${base}/#/runs`)
    await page.locator('[data-testid="new-run"]').waitFor()
    await page.locator('[data-testid="run-preset"]').selectOption('tiny-lora')
    await page.waitForFunction(() => document.querySelector('[data-testid="run-name"]')?.value === 'tiny-queued')
    await page.locator('[data-testid="run-name"]').fill(RUN)
    await page.locator('[data-testid="run-setting-max_steps"]').fill('30')
    await page.waitForFunction((run) => /--set run_name=(\S+) .*--set max_steps=30$/.exec(document.querySelector('[data-testid="run-command"]')?.textContent || '')?.[1] === run, RUN)
    const command = await page.locator('[data-testid="run-command"]').innerText()
    // the preset, then the run's own name, base, method and data, then only what differs from the preset
    assert(/^llmchat finetune --config \S+tiny-lora\.yaml --set run_name=browser-run --set base_model=tiny-chat --set method=lora --set data=\S+ --set max_steps=30$/.test(command), `the command: ${command}`)
    await noAxeViolations('the New run form')
  })

  await step('a value out of its range is named beside the form, and the command waits for a good one', async () => {
    await page.locator('[data-testid="run-setting-learning_rate"]').fill('7')
    await page.locator('[data-testid="run-form-error"]').waitFor()
    assert(/learning_rate/.test(await page.locator('[data-testid="run-form-error"]').innerText()), 'names learning_rate')
    assert(await page.locator('[data-testid="run-start"]').isDisabled(), 'no start with a bad value')
    await page.locator('[data-testid="run-setting-learning_rate"]').fill('0.03')
    await page.waitForFunction(() => !document.querySelector('[data-testid="run-form-error"]'))
    await shot('runs-form')
  })

  await step('Start: the run page draws the loss points as they arrive', async () => {
    await page.locator('[data-testid="run-start"]').click()
    await page.waitForFunction((run) => location.hash === `#/runs/${run}`, RUN)
    await page.waitForFunction(() => document.querySelector('[data-testid="run-status"]')?.textContent === 'running')
    await page.waitForFunction(() => (document.querySelector('[data-testid="run-loss"] .loss-line')?.getAttribute('points') || '').trim().split(/\s+/).length >= 2)
    early = await drawnPoints()
    assert(await page.locator('[data-testid="run-status"]').innerText() === 'running', 'points drawn while running')
    await shot('run-training')
  })

  await step('Stop: it saves a checkpoint mid-way and stops; Resume: it goes on from there and finishes', async () => {
    await page.locator('[data-testid="run-stop"]').click()
    await page.waitForFunction(() => document.querySelector('[data-testid="run-status"]')?.textContent === 'stopped', null, { timeout: 120000 })
    const stopped = await runDetail()
    assert(stopped.progress.step < 30 && stopped.report === null && stopped.attempts === 1, `stopped mid-way: step ${stopped.progress.step}`)
    assert(await drawnPoints() >= early, 'the points drawn so far stay')
    await page.locator('[data-testid="run-resume"]').click()
    await page.waitForFunction(() => ['queued', 'running'].includes(document.querySelector('[data-testid="run-status"]')?.textContent))
    await page.waitForFunction(() => document.querySelector('[data-testid="run-status"]')?.textContent === 'finished', null, { timeout: 300000 })
    const late = await drawnPoints()
    assert(late > early, `more points after the resume (${early}, then ${late})`)
    assert(late === 30, `one training-loss point per step: ${late}`)
    const finished = await runDetail()
    assert(finished.attempts === 2 && finished.report.global_step === 30, `a second attempt to the end: ${finished.attempts}, ${finished.report.global_step}`)
    await page.locator('[data-testid="run-report"]').waitFor()
    assert(/step 30 of 30/.test(await page.locator('[data-testid="run-progress"]').innerText()), 'progress at the end')
    const log = await page.locator('[data-testid="run-log"]').innerText()
    assert(log.length > 0, 'a log tail')
    // a progress bar is one line in its last state, not a line per carriage-return update (30 steps: 30 updates)
    const bars = log.split('\n').filter((line) => /\|\s*\d+\/30\b/.test(line))
    assert(bars.length <= 2, `the training bar once per attempt, not per update:\n${bars.join('\n')}`)
    await noAxeViolations('the run page')
    await shot('run-page')
    await shot('run-page', { phone: true })
  })

  await step('the runs list has it, finished', async () => {
    await page.goto(`${base}/#/runs`)
    const row = page.locator(`[data-testid="run-row-${RUN}"]`)
    await row.waitFor()
    assert(/finished/.test(await row.innerText()), 'finished in the list')
  })

  await step('Evaluate: `llmchat evaluate` of the run beside its base through the worker, shown when it is done', async () => {
    await page.goto(`${base}/#/runs/${RUN}`)
    await page.locator('[data-testid="run-evaluate"]').click()
    await page.locator('[data-testid="run-evaluation"]').waitFor({ timeout: 300000 })
    const summary = (await runDetail()).evaluation.summary
    assert(summary.model === RUN && Object.keys(summary.models).sort().join() === `${RUN},tiny-chat`,
      `the run beside its base: ${JSON.stringify(Object.keys(summary.models))}`)
    assert(summary.data.endsWith('test.jsonl') && summary.n >= 8, `on the run's test split: ${summary.data} (${summary.n})`)
  })

  await step('Evaluate on a benchmark: ARC-Easy (data/benchmarks) through the worker\'s logprobs, the run beside its base', async () => {
    await page.locator('[data-testid="run-task-arc_easy"]').check()
    await page.locator('[data-testid="run-evaluate"]').click()
    await page.locator('[data-testid="run-evaluation-benchmarks"] tr[data-task="arc_easy"]').waitFor({ timeout: 300000 })
    const { evaluation } = await runDetail()
    assert(/--tasks arc_easy --data-dir \S+benchmarks$/.test(evaluation.command) && !evaluation.failed, `the command: ${evaluation.command}`)
    const { run, base, base_model: baseModel } = evaluation.benchmarks
    assert(baseModel === 'tiny-chat' && run.arc_easy.n === 6 && base.arc_easy.n === 6, `both scored on the 6 questions: ${JSON.stringify(evaluation.benchmarks)}`)
    const cells = await page.locator('[data-testid="run-evaluation-benchmarks"] tr[data-task="arc_easy"] td').allInnerTexts()
    assert(cells[0] === '6' && /%$/.test(cells[1]) && /%$/.test(cells[2]), `the row: ${cells}`)
  })

  await step('Export GGUF Q8_0 + Modelfile from the run page: both files listed, the Modelfile downloads', async () => {
    const exportsBox = page.locator('[data-testid="run-exports"]')
    await exportsBox.getByRole('button', { name: 'GGUF Q8_0' }).click()
    await exportsBox.locator('a', { hasText: 'q8_0.Modelfile' }).waitFor({ timeout: 300000 })
    const names = await exportsBox.locator('li a').allInnerTexts()
    assert(names.includes(`exports/${RUN}-q8_0.gguf`) && names.includes(`exports/${RUN}-q8_0.Modelfile`), `listed: ${names}`)
    const href = await exportsBox.locator('a', { hasText: 'q8_0.Modelfile' }).getAttribute('href')
    const modelfile = await page.evaluate((url) => fetch(url).then((r) => r.text()), href)
    assert(modelfile.startsWith(`FROM ./${RUN}-q8_0.gguf\n`), `the Modelfile: ${modelfile.slice(0, 80)}`)
    const gguf = await page.evaluate((url) => fetch(url).then((r) => r.arrayBuffer()).then((b) => new TextDecoder().decode(b.slice(0, 4))),
      await exportsBox.locator('a', { hasText: 'q8_0.gguf' }).getAttribute('href'))
    assert(gguf === 'GGUF', `a GGUF file: ${gguf}`)
    // the GGUF was written from the merged folder: listed with its path and the models.yaml entry that serves it
    const serve = exportsBox.locator('[data-testid="export-serve"]')
    const folder = await serve.locator('[data-testid="export-path"]').innerText()
    assert(folder.endsWith(`runs/${RUN}/merged`), `the merged folder's path: ${folder}`)
    const entry = await serve.locator('[data-testid="export-entry"]').innerText()
    assert(entry.includes(`- id: ${RUN}-merged\n`) && entry.includes(`source: ${folder}\n`) && entry.includes('prompt_style: alpaca'),
      `the models.yaml entry: ${entry}`)
    await serve.getByRole('button', { name: "Copy the merged folder's path" }).click()
    await page.locator('.toast', { hasText: 'Copied the path.' }).waitFor()
    await serve.getByRole('button', { name: 'Copy the models.yaml entry' }).click()
    await page.locator('.toast', { hasText: 'Copied the models.yaml entry.' }).waitFor()
    await exportsBox.scrollIntoViewIfNeeded()
    await shot('run-evaluate-export')
  })

  await step('Blind compare with its base: a blind compare session of the two opens', async () => {
    await page.locator('[data-testid="run-compare"]').click()
    await page.waitForFunction(() => /^#\/compare\/.+/.test(location.hash))
    const id = decodeURIComponent(await page.evaluate(() => location.hash.split('/')[2]))
    const session = await page.evaluate((cid) => fetch(`/api/conversations/${cid}`).then((r) => r.json()), id)
    assert(session.blind === true && session.models.every((m) => m === null), `blind and hidden: ${JSON.stringify(session.models)}`)
  })

  await step('Chat with it: the chat opens with the run as its model (the worker serves the finished run)', async () => {
    await page.goto(`${base}/#/runs/${RUN}`)
    await page.locator('[data-testid="run-chat"]').click()
    await page.locator('#composer-input').waitFor()
    await page.waitForFunction((run) => document.querySelector('#model-select')?.value === run, RUN)
  })

  assert(pageErrors.length === 0, `no page errors: ${pageErrors.join('; ')}`)
  console.log('all runs browser checks passed')
} finally {
  await browser.close()
}

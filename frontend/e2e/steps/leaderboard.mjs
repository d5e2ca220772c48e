// The leaderboard after the votes: every voted model with its rating and interval bar, battles, win rate and
// thumbs-up share; how ties count; sorting; and model cards from a row and from the model picker (no server paths).
import { assert } from '../browser.mjs'

export async function leaderboard({ page, step, h, shared }) {
  const rows = () => page.locator('table.leaderboard tbody tr')

  await step('the leaderboard lists the voted models with rating, 95% interval bar, battles, win rate and thumbs-up share', async () => {
    await page.goto(`${h.base}/#/`)
    await page.locator('[data-testid="leaderboard-link"]').click()
    await page.waitForFunction(() => location.hash === '#/leaderboard')
    await rows().first().waitFor()
    const board = JSON.parse((await h.api('/api/leaderboard')).body)
    assert(board.votes >= 2, `the named and the blind vote count (${board.votes})`)
    const shown = await rows().evaluateAll((trs) => trs.map((tr) => tr.dataset.model))
    assert(JSON.stringify(shown) === JSON.stringify(board.models.map((m) => m.model)), `best rating first, as the API ranks: ${shown}`)
    for (const row of board.models.filter((m) => m.battles > 0)) {
      const tr = page.locator(`tr[data-model="${row.model}"]`)
      assert((await tr.locator('[data-col="rating"]').innerText()) === String(Math.round(row.rating)), `${row.model}: rating`)
      assert((await tr.locator('[data-col="ci"]').innerText()) === `${Math.round(row.ci95[0])}–${Math.round(row.ci95[1])}`, `${row.model}: interval`)
      assert((await tr.locator('[data-col="bar"] svg line.interval-range').count()) === 1, `${row.model}: interval bar`)
      assert((await tr.locator('[data-col="battles"]').innerText()).startsWith(String(row.battles)), `${row.model}: battles`)
    }
    const thumbed = board.models.find((m) => m.thumbs_up > 0)
    assert(thumbed, 'the thumbs up counts')
    assert((await page.locator(`tr[data-model="${thumbed.model}"] [data-col="thumbs"]`).innerText()).includes(`${Math.round(thumbed.thumbs_up_share * 100)}%`),
      'thumbs-up share shown')
    const method = await page.locator('[data-testid="leaderboard-method"]').innerText()
    assert(method.includes('Bradley-Terry') && /tie counts as half a win/.test(method), `says the method and how ties count: ${method}`)
  })

  await step('sorting: a header button sorts by its column (aria-sort), again reverses', async () => {
    await page.locator('[data-testid="sort-model"]').click()
    assert((await page.locator('th[data-sort="model"]').getAttribute('aria-sort')) === 'ascending', 'model ascending')
    const names = await rows().evaluateAll((trs) => trs.map((tr) => tr.dataset.model))
    assert(JSON.stringify(names) === JSON.stringify([...names].sort()), `by name: ${names}`)
    await page.locator('[data-testid="sort-model"]').press('Enter')
    assert((await page.locator('th[data-sort="model"]').getAttribute('aria-sort')) === 'descending', 'then descending (keyboard)')
    await page.locator('[data-testid="sort-rating"]').click()
    assert((await page.locator('th[data-sort="rating"]').getAttribute('aria-sort')) === 'descending', 'back to best first')
  })

  await step('a model card opens from a leaderboard row and from the model picker; Escape closes it', async () => {
    const model = shared.models.find((m) => m.kind === 'lora') || shared.models[0]
    const opener = page.locator(`[data-testid="card-${model.id}"]`)
    await opener.click()
    const card = page.locator('[data-testid="model-card"]')
    await card.waitFor()
    await page.waitForFunction(() => document.querySelector('[data-testid="card-facts"]'))
    const facts = await card.locator('[data-testid="card-facts"]').innerText()
    assert(facts.includes(model.kind) && facts.includes(model.prompt_style), `kind and prompt style: ${facts}`)
    if (model.base_model) assert(facts.includes(model.base_model), `base model: ${facts}`)
    assert(/Engine\s+\S+/.test(facts), `the engine: ${facts}`)
    await page.keyboard.press('Escape')
    await card.waitFor({ state: 'detached' })
    assert(await opener.evaluate((el) => el === document.activeElement), 'focus back on the name')

    await page.locator('[data-testid="new-chat"]').click()
    const selected = await page.locator('#model-select').inputValue()
    await page.locator('[data-testid="model-select-card"]').click()
    await card.waitFor()
    assert((await card.locator('#card-title').innerText()).includes(selected), `the picker opens the selected model's card (${selected})`)
    await page.getByRole('button', { name: 'Close model card' }).click()
    await card.waitFor({ state: 'detached' })
  })

  const run = () => shared.models.find((m) => m.origin === 'runs')
  await step('a fine-tuning run is in the model picker and on the leaderboard; its card shows recipe, loss curve (inline SVG) and last evaluation with seen/unseen splits', async () => {
    const model = run()
    assert(model, `the suite serves a fine-tuning run (models: ${shared.models.map((m) => `${m.id}:${m.origin}`)})`)
    await page.goto(`${h.base}/#/`)
    await page.locator(`#model-select option[value="${model.id}"]`).waitFor({ state: 'attached' })
    await page.goto(`${h.base}/#/leaderboard`)
    await page.locator(`[data-testid="card-${model.id}"]`).waitFor() // on the leaderboard: rated, or "not rated yet"
    await page.locator(`[data-testid="card-${model.id}"]`).click()
    const card = page.locator('[data-testid="model-card"]')
    await card.locator('[data-testid="loss-curve"] svg polyline.loss-line').waitFor()
    const label = await card.locator('[data-testid="loss-curve"] svg').getAttribute('aria-label')
    assert(/^Training loss \d/.test(label), `the curve says what it shows: ${label}`)
    const splits = await card.locator('[data-testid="evaluation"] tr[data-split]').allInnerTexts()
    assert(splits.length === 3 && /seen/.test(splits[1]) && /unseen/.test(splits[2]), `seen/unseen rows: ${splits}`)
    assert((await card.locator('.recipe').innerText()).length > 0, 'the recipe')
    // the run's recipe and evaluation name files on the model server (tmp folders here): a user sees file names only
    const text = await card.innerText()
    const leaked = text.match(/(^|[\s(])(\/|~\/)[^\s)]+|[\w.-]+\/[\w.-]+\.(jsonl|json|yaml)|models\/runs\/[\w.-]+/g) // ("a fine-tuning run in models/runs" says where runs are found)
    assert(!leaked, `no server path on the card: ${leaked}`)
    assert(/[\w-]+\.jsonl/.test(text), 'the data is named by its file name')
    assert(!/\bReport\b/.test(await card.locator('[data-testid="evaluation"]').innerText()), 'no report location')
    await page.keyboard.press('Escape')
  })
}

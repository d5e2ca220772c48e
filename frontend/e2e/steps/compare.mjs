// Compare sessions: the default pair is the chat model and the newest fine-tuned model, one prompt makes one
// history entry holding both columns, it reopens as a compare view, and at phone width the replies are tabs.
import { assert } from '../browser.mjs'

export async function compare({ page, step, h, shared }) {
  const countEntries = () => page.locator('.conversation').count()

  await step('compare opens with the chat model against the newest fine-tuned run', async () => {
    await page.locator('[data-testid="compare-link"]').click()
    await page.locator('[data-testid="compare-left"]').waitFor()
    const chat = shared.models.find((m) => m.kind === 'chat')
    const tuned = shared.models.filter((m) => m.kind === 'lora' || m.kind === 'alpaca')
      .sort((a, b) => (a.origin === 'runs') - (b.origin === 'runs') || String(a.created || '').localeCompare(String(b.created || ''))).pop()
    assert((await page.locator('#compare-left-model').inputValue()) === chat.id, `left is ${chat.id}`)
    assert((await page.locator('#compare-right-model').inputValue()) === tuned.id, `right is ${tuned.id}`)
  })

  await step('one compare prompt makes one history entry holding both replies', async () => {
    const before = await countEntries()
    await page.locator('#compare-input').fill('What is the capital of France?')
    await page.locator('#compare-input').press('Enter')
    for (const side of ['left', 'right']) {
      const column = page.locator(`[data-testid="compare-${side}"]`)
      const reply = await h.waitReplyDone(column)
      assert(['complete', 'stopped'].includes(await reply.getAttribute('data-status')), `${side} reply done`)
    }
    await page.waitForFunction(() => /#\/compare\/.+/.test(location.hash))
    shared.compareId = h.conversationIdFromUrl()
    await page.waitForFunction((n) => document.querySelectorAll('.conversation').length === n + 1, before)
    const item = h.entry(shared.compareId)
    assert((await item.getAttribute('data-kind')) === 'compare', 'the entry is a compare session')
    assert((await item.locator('.conversation-meta').innerText()).includes(' vs '), 'it names both models')
    const [left, right] = ['left', 'right'].map((s) => page.locator(`[data-testid="compare-${s}"] [data-testid="message-meta"]`).last())
    assert((await left.innerText()).includes(await page.locator('[data-testid="compare-left"] .compare-fixed strong').innerText()), 'left reply from the left model')
    assert((await right.innerText()).includes(await page.locator('[data-testid="compare-right"] .compare-fixed strong').innerText()), 'right reply from the right model')
  })

  await step('a follow-up stays in the same entry; reopening it from the history shows both columns', async () => {
    const before = await countEntries()
    await page.locator('#compare-input').fill('And of Germany?')
    await page.locator('#compare-input').press('Enter')
    for (const side of ['left', 'right']) await h.waitReplyDone(page.locator(`[data-testid="compare-${side}"]`))
    await page.waitForFunction(() => !document.querySelector('article[data-status="streaming"]'))
    assert((await countEntries()) === before, 'no new entry')
    await h.newChat()
    await page.goto(`${h.base}/#/c/${encodeURIComponent(shared.compareId)}`) // an old-style link to it
    await page.waitForFunction((id) => location.hash === `#/compare/${encodeURIComponent(id)}`, shared.compareId)
    await page.locator('[data-testid="compare-left"] article').first().waitFor()
    await h.newChat()
    await h.entry(shared.compareId).locator('.conversation-link').click()
    for (const side of ['left', 'right']) {
      const column = page.locator(`[data-testid="compare-${side}"]`)
      await column.locator('article[data-role="user"]').nth(1).waitFor()
      assert((await column.locator('article[data-role="assistant"]').count()) === 2, `${side} column has both replies`)
    }
  })

  await step('phone width: the two replies are tabs filling the screen, not two nested scroll boxes', async () => {
    await page.setViewportSize({ width: 390, height: 844 })
    const tabs = page.getByRole('tab')
    await tabs.first().waitFor()
    assert((await tabs.count()) === 2, 'two tabs')
    assert(await page.locator('[data-testid="compare-left"]').isVisible(), 'A shown')
    assert(!(await page.locator('[data-testid="compare-right"]').isVisible()), 'B hidden')
    const width = await page.locator('[data-testid="compare-left"] .compare-thread').evaluate((el) => el.getBoundingClientRect().width)
    assert(width >= 380, `the reply uses the full width (${Math.round(width)} px)`)
    await page.locator('[data-testid="compare-tab-right"]').click()
    assert(await page.locator('[data-testid="compare-right"]').isVisible(), 'B shown after its tab')
    assert(!(await page.locator('[data-testid="compare-left"]').isVisible()), 'A hidden')
    await page.locator('[data-testid="compare-tab-right"]').press('ArrowLeft')
    assert(await page.locator('[data-testid="compare-left"]').isVisible(), 'arrow keys switch tabs')
    assert((await page.locator('[data-testid="compare-tab-left"]').getAttribute('aria-selected')) === 'true', 'A selected')
    await page.setViewportSize({ width: 1280, height: 800 })
    await tabs.first().waitFor({ state: 'detached' })
    assert(await page.locator('[data-testid="compare-right"]').isVisible(), 'side by side on a wide screen')
  })
}

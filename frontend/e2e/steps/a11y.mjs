// axe-core on the main screens, light and dark, wide and phone: no serious or critical violation anywhere.
// With feedback: a rated reply with its better answer (and the editor), the vote bar after a blind vote, the
// blind start, the leaderboard and a model card.
import { assert } from '../browser.mjs'
import { axeViolations, describeViolations } from '../a11y.mjs'

export async function a11y({ page, step, h, shared }) {
  const failures = []
  async function check(name) {
    await page.waitForTimeout(200) // let transitions finish: axe reads computed colours
    const found = await axeViolations(page)
    console.log(`# axe ${name}: ${found.length ? describeViolations(found) : 'no serious or critical violations'}`)
    if (found.length) failures.push(`${name}:\n  ${describeViolations(found)}`)
  }

  await step('axe-core: chat, settings, shortcuts, search, editing, compare, feedback, votes, leaderboard, model card — light and dark, wide and phone', async () => {
    const chats = JSON.parse((await h.api('/api/conversations')).body).conversations
    const chatId = shared.treeId || chats.find((c) => c.kind !== 'compare').id
    const compareId = shared.compareId || chats.find((c) => c.kind === 'compare').id
    const chatUrl = `${h.base}/#/c/${encodeURIComponent(chatId)}`
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme })
      await page.setViewportSize({ width: 1280, height: 800 })
      await page.goto(`${h.base}/#/`)
      await page.waitForFunction(() => document.querySelector('#composer-input')?.disabled === false)
      await check(`welcome (${scheme})`)
      await page.goto(chatUrl)
      await h.lastReply().locator('[data-testid="message-meta"]').waitFor()
      await check(`chat with versions (${scheme})`)
      await h.thread().locator('article[data-role="user"]').first().getByRole('button', { name: 'Edit' }).click()
      await check(`editing a message (${scheme})`)
      await page.keyboard.press('Escape')
      await page.locator('[data-testid="open-settings"]').click()
      await page.locator('[data-testid="settings"]').waitFor()
      await check(`settings (${scheme})`)
      await page.keyboard.press('Escape')
      await page.locator('[data-testid="open-shortcuts"]').click()
      await check(`shortcuts overlay (${scheme})`)
      await page.keyboard.press('Escape')
      await page.locator('#conversation-search').fill('Tree')
      await page.locator('[data-testid="search-hit"]').first().waitFor()
      await check(`search results (${scheme})`)
      await page.locator('#conversation-search').fill('')
      await page.goto(`${h.base}/#/compare/${encodeURIComponent(compareId)}`)
      await page.locator('[data-testid="compare-left"] article').first().waitFor()
      await check(`compare (${scheme})`)
      await page.setViewportSize({ width: 390, height: 844 })
      await check(`compare, phone (${scheme})`)
      await page.setViewportSize({ width: 1280, height: 800 })
      if (shared.ratedChat) {
        await page.goto(`${h.base}/#/c/${encodeURIComponent(shared.ratedChat.id)}`)
        await h.lastReply().locator('[data-testid="correction"]').waitFor()
        await check(`rated reply with a better answer (${scheme})`)
        await h.lastReply().locator('[data-testid="edit-correction"]').click()
        await check(`better-answer editor (${scheme})`)
        await page.keyboard.press('Escape')
      }
      if (shared.blindCompareId) {
        await page.goto(`${h.base}/#/compare/${encodeURIComponent(shared.blindCompareId)}`)
        await page.locator('[data-testid="vote-status"]', { hasText: 'Model A is' }).waitFor()
        await check(`compare after a blind vote (${scheme})`)
        await page.setViewportSize({ width: 390, height: 844 })
        await check(`compare after a blind vote, phone (${scheme})`)
        await page.setViewportSize({ width: 1280, height: 800 })
      }
      await page.goto(`${h.base}/#/compare`)
      await page.locator('[data-testid="mode-blind"]').check()
      await page.locator('[data-testid="hidden-model"]').first().waitFor()
      await check(`blind compare start (${scheme})`)
      await page.locator('[data-testid="mode-chosen"]').check()
      await page.goto(`${h.base}/#/leaderboard`)
      await page.locator('table.leaderboard, [data-testid="leaderboard-empty"]').first().waitFor()
      await check(`leaderboard (${scheme})`)
      const run = (shared.models || []).find((m) => m.origin === 'runs') || (shared.models || [])[0]
      if (run) {
        await page.locator(`[data-testid="card-${run.id}"]`).click()
        await page.locator('[data-testid="card-facts"]').waitFor()
        await check(`model card (${scheme})`)
        await page.setViewportSize({ width: 390, height: 844 })
        await check(`model card, phone (${scheme})`)
        await page.keyboard.press('Escape')
      }
      await page.setViewportSize({ width: 390, height: 844 })
      await check(`leaderboard, phone (${scheme})`)
      await page.goto(chatUrl)
      await h.lastReply().locator('[data-testid="message-meta"]').waitFor()
      await check(`chat, phone (${scheme})`)
      await page.locator('.menu-btn').click()
      await page.locator('.sidebar.open').waitFor()
      await page.waitForTimeout(300)
      await check(`history drawer, phone (${scheme})`)
      await page.keyboard.press('Escape')
    }
    await page.emulateMedia({ colorScheme: 'light' })
    await page.setViewportSize({ width: 1280, height: 800 })
    assert(failures.length === 0, `axe found serious/critical violations:\n${failures.join('\n')}`)
  })
}

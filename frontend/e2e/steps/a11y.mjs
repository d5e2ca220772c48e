// axe-core on the main screens, light and dark, wide and phone: no serious or critical violation anywhere.
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

  await step('axe-core: chat, settings, shortcuts, search, editing, compare — light and dark, wide and phone', async () => {
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

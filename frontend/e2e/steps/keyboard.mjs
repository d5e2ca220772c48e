// Keyboard: the "?" overlay, shortcuts for new chat / focus composer / stop / copy last reply, and a history list
// that is one tab stop (roving tabindex) with its actions on the arrow keys.
import { assert } from '../browser.mjs'

export async function keyboard({ page, step, h }) {
  const active = () => page.evaluate(() => {
    const el = document.activeElement
    return el ? (el.id || el.dataset.testid || el.className || el.tagName) : null
  })
  const blur = () => page.evaluate(() => document.activeElement?.blur())

  await step('"?" opens the shortcuts overlay; Escape closes it', async () => {
    await page.goto(`${h.base}/#/`)
    await page.waitForFunction(() => document.querySelector('#composer-input')?.disabled === false)
    await blur()
    await page.keyboard.press('?')
    const dialog = page.locator('[data-testid="shortcuts"]')
    await dialog.waitFor()
    const text = await dialog.innerText()
    for (const words of ['New chat', 'Focus the message box', 'Stop the reply', 'Copy the last reply']) assert(text.includes(words), `lists ${words}`)
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'detached' })
    await page.locator('[data-testid="open-shortcuts"]').click()
    await dialog.waitFor()
    await page.keyboard.press('Escape')
  })

  await step('Ctrl+Shift+O starts a new chat with the composer focused; Shift+Esc focuses the composer', async () => {
    await h.sendAndWait('Keyboard test message')
    await page.locator('[data-testid="open-settings"]').focus()
    await page.keyboard.press('Control+Shift+O')
    await page.waitForFunction(() => location.hash === '#/')
    await page.waitForFunction(() => document.activeElement?.id === 'composer-input')
    assert((await h.thread().locator('article').count()) === 0, 'an empty chat')
    await page.locator('[data-testid="new-chat"]').focus()
    await page.keyboard.press('Shift+Escape')
    assert((await active()) === 'composer-input', 'Shift+Esc focused the composer')
  })

  await step('Ctrl+Shift+C copies the last reply', async () => {
    await page.goBack()
    await h.lastReply().locator('[data-testid="message-meta"]').waitFor()
    const id = h.conversationIdFromUrl()
    const detail = JSON.parse((await h.api(`/api/conversations/${id}`)).body)
    const last = detail.messages.findLast((m) => m.role === 'assistant')
    await blur()
    await page.keyboard.press('Control+Shift+C')
    await page.locator('.toast', { hasText: 'Copied the last reply.' }).waitFor()
    assert((await page.evaluate(() => navigator.clipboard.readText())) === last.content, 'the clipboard has the reply text')
  })

  await step('Escape stops a reply being written', async () => {
    await h.setSettings({ max_tokens: 450 })
    await h.composer().fill('Tell me a very long story about keyboards.')
    await h.composer().press('Enter')
    await h.replyStarted()
    await page.keyboard.press('Escape')
    const reply = await h.waitReplyDone()
    assert((await reply.getAttribute('data-status')) === 'stopped', `stopped (${await reply.getAttribute('data-status')})`)
    assert((await reply.locator('.badge', { hasText: 'stopped' }).count()) === 1, 'marked stopped')
    await h.resetSettings()
  })

  await step('history is one tab stop: Tab goes from the search box past the list to the theme, picker and composer', async () => {
    const entries = await page.locator('.conversation').count()
    assert(entries >= 5, `enough history to matter (${entries} entries)`)
    await h.newChat()
    await page.locator('#conversation-search').focus()
    const stops = []
    for (let i = 0; i < 20 && (await active()) !== 'composer-input'; i += 1) {
      await page.keyboard.press('Tab')
      stops.push(await active())
    }
    const inList = stops.filter((s) => String(s).includes('conversation-link')).length
    assert(inList === 1, `one stop in the history list (${inList}): ${stops.join(' > ')}`)
    assert(stops.includes('model-select') && stops.at(-1) === 'composer-input', `reaches the picker and the composer: ${stops.join(' > ')}`)
    // list (1) + theme (3) + picker: the history's length no longer matters
    assert(stops.indexOf('model-select') <= 4, `the picker is stop ${stops.indexOf('model-select') + 1} after the search box`)
  })

  await step('arrow keys move through the history; Right arrow opens the entry\'s actions', async () => {
    const link = page.locator('.conversation-link[tabindex="0"]')
    await link.focus()
    const start = await link.evaluate((el) => el.closest('.conversation').dataset.id)
    await page.keyboard.press('Home')
    await page.keyboard.press('ArrowDown')
    const moved = await page.evaluate(() => document.activeElement?.closest('.conversation')?.dataset.id)
    const ids = await page.locator('.conversation').evaluateAll((els) => els.map((e) => e.dataset.id))
    assert(moved === ids[1], `ArrowDown from the first entry lands on the second (${start} -> ${moved})`)
    assert((await page.locator('.conversation-link[tabindex="0"]').count()) === 1, 'still one tab stop')
    await page.keyboard.press('ArrowRight')
    const menu = page.locator(`.conversation[data-id="${moved}"] [role="menu"]`)
    await menu.waitFor()
    assert((await active()) !== null && (await page.evaluate(() => document.activeElement?.getAttribute('role'))) === 'menuitem', 'focus in the menu')
    await page.keyboard.press('ArrowDown')
    assert((await page.evaluate(() => document.activeElement?.textContent)) === 'Export as Markdown', 'arrows move in the menu')
    await page.keyboard.press('Escape')
    await menu.waitFor({ state: 'detached' })
    assert((await page.evaluate(() => document.activeElement?.closest('.conversation')?.dataset.id)) === moved, 'focus back on the entry')
  })

  await step('the first Tab reaches the skip link, which focuses the composer', async () => {
    await page.goto(`${h.base}/#/`)
    await page.reload() // a hash-only navigation would keep the old focus: start from a fresh document
    await page.waitForFunction(() => document.querySelector('#composer-input')?.disabled === false)
    await page.keyboard.press('Tab')
    assert(await page.evaluate(() => document.activeElement?.classList.contains('skip-link')), 'skip link focused')
    await page.keyboard.press('Enter')
    await page.waitForFunction(() => document.activeElement?.id === 'composer-input')
  })
}

// What the Chromium review found, each fixed and checked here: the action row of a finished reply in view, the
// history menu flipping up near the bottom, the streaming cursor at the end of the text, wide code keyboard-scrollable,
// the skip link pointing at something that exists on every page, no keyboard hints on a touch screen, a chip for
// custom settings, and the picker following the conversation that is opened.
import { assert } from '../browser.mjs'
import { sseBody } from '../helpers.mjs'

const inside = (box, frame) => box.y >= frame.y - 1 && box.y + box.height <= frame.y + frame.height + 1

export async function review({ page, step, h, shared }) {
  const { composer, thread } = h

  await step('after a reply ends its action row is scrolled into view, not left behind the composer', async () => {
    await page.setViewportSize({ width: 1280, height: 520 })
    await h.newChat()
    for (const text of ['First question for a long thread.', 'Second question.', 'Third question.']) await h.sendAndWait(text)
    const reply = thread().locator('article[data-role="assistant"]').last()
    const row = await reply.locator('[data-testid="message-meta"]').boundingBox()
    const frame = await thread().boundingBox()
    assert(inside(row, frame), `the last reply's action row (${JSON.stringify(row)}) is inside the thread (${JSON.stringify(frame)})`)
  })

  await step('the history menu of an entry near the bottom opens upwards, every item reachable', async () => {
    const last = page.locator('.conversation').last()
    await last.scrollIntoViewIfNeeded()
    await last.hover()
    await last.locator('[data-action="menu"]').click()
    const menu = last.locator('[role="menu"]')
    await menu.waitFor()
    const box = await menu.boundingBox()
    const list = await page.locator('.sidebar-scroll').boundingBox()
    assert(box.y + box.height <= Math.min(520, list.y + list.height) + 1, `the menu (${JSON.stringify(box)}) ends inside the list`)
    assert(await last.locator('[data-action="delete"]').isVisible(), 'Delete is visible')
    await page.keyboard.press('Escape')
    await page.setViewportSize({ width: 1280, height: 800 })
  })

  await step('the streaming cursor is drawn at the end of the last line of text, not on a line of its own', async () => {
    // a reply the tiny model streams too fast to catch: the page's own stylesheet is asked what a streaming reply shows
    const cursor = await page.evaluate(() => {
      const box = document.createElement('div')
      box.className = 'markdown streaming'
      box.innerHTML = '<p>first</p><p>last line</p>'
      document.body.append(box)
      const last = getComputedStyle(box.lastElementChild, '::after')
      const first = getComputedStyle(box.firstElementChild, '::after')
      const seen = { last: [last.content, last.display], first: first.content }
      box.remove()
      return seen
    })
    assert(cursor.last[0] !== 'none' && cursor.last[1] === 'inline-block', `the last line ends with the cursor: ${JSON.stringify(cursor)}`)
    assert(cursor.first === 'none', 'only the last line has it')
  })

  await step('wide code blocks take keyboard focus and scroll with the arrow keys', async () => {
    const wide = `\`\`\`python\nprint("${'x'.repeat(400)}")\n\`\`\``
    await page.route('**/api/chat', (route) => route.fulfill({ status: 200, contentType: 'text/event-stream', body: sseBody([
      ['start', { conversation_id: 'code-probe', user_message: { id: 811, role: 'user', content: 'code please', status: 'complete' },
        message: { id: 812, role: 'assistant', content: '', status: 'streaming', model: 'probe' } }],
      ['done', { conversation_id: 'code-probe', message: { id: 812, role: 'assistant', content: `Here it is:\n\n${wide}`, status: 'complete',
        finish_reason: 'stop', model: 'probe', response_time_ms: 900, usage: { completion_tokens: 120 } } }]]) }))
    await h.newChat()
    await composer().fill('code please')
    await composer().press('Enter')
    const reply = await h.waitReplyDone()
    await page.unroute('**/api/chat')
    const pre = reply.locator('pre').first()
    assert((await pre.getAttribute('tabindex')) === '0', 'the code block is focusable')
    assert(await pre.evaluate((el) => el.scrollWidth > el.clientWidth), 'the block is wider than its box')
    await pre.focus()
    await page.keyboard.press('ArrowRight')
    await page.keyboard.press('ArrowRight')
    // keyboard scrolling may be animated: wait for it to move rather than read it at once
    await pre.evaluate((el) => new Promise((resolve, reject) => {
      const started = performance.now()
      const check = () => (el.scrollLeft > 0 ? resolve() : performance.now() - started > 3000 ? reject(new Error('the keyboard did not scroll the code block')) : requestAnimationFrame(check))
      check()
    }))
    await page.goto(`${h.base}/#/`)
  })

  await step('the skip link names a target that exists on the chat, compare and leaderboard pages', async () => {
    for (const hash of ['#/', '#/compare', '#/leaderboard']) {
      await page.goto(`${h.base}/${hash}`)
      const href = await page.locator('.skip-link').getAttribute('href')
      await page.locator(href).waitFor({ state: 'attached' })
    }
    await page.goto(`${h.base}/#/`)
  })

  await step('custom settings show as a chip on the chat screen that opens them; reset removes it', async () => {
    await h.newChat()
    assert((await page.locator('[data-testid="custom-settings"]').count()) === 0, 'no chip with the defaults')
    await h.setSettings({ max_tokens: 16 })
    const chip = page.locator('[data-testid="custom-settings"] button')
    assert((await chip.innerText()).includes('max tokens 16'), `the chip names the change: ${await chip.innerText()}`)
    await chip.click()
    await page.locator('[data-testid="settings"]').waitFor()
    await page.keyboard.press('Escape')
    await h.resetSettings()
    await page.locator('[data-testid="custom-settings"]').waitFor({ state: 'detached' })
  })

  await step('opening a saved conversation puts its model in the picker', async () => {
    const [first, second] = shared.models.map((m) => m.id)
    await h.newChat()
    await page.selectOption('#model-select', first)
    await h.sendAndWait('Which model answers this?')
    const id = h.conversationIdFromUrl()
    await h.newChat()
    await page.selectOption('#model-select', second)
    await h.entry(id).locator('.conversation-link').click()
    await page.waitForFunction((m) => document.querySelector('#model-select')?.value === m, first)
    assert((await page.locator('[data-testid="model-switch"]').count()) === 0, 'no "next message goes to another model" note')
  })

  await step('a touch screen gets no keyboard hints under the composer', async () => {
    const context = await page.context().browser().newContext({ viewport: { width: 390, height: 800 }, hasTouch: true, isMobile: true })
    const phone = await context.newPage()
    await phone.goto(h.base)
    await phone.locator('#composer-input').waitFor()
    assert(!(await phone.locator('.composer-hint').isVisible()), 'the Enter/Shift+Enter/? hint is hidden')
    await context.close()
  })
}

// Reach, by keyboard and on a phone: in a 5-exchange chat the composer is a bounded number of Tab presses away
// (each message's action row is one tab stop, its buttons on the arrow keys; it took 44 presses before), and at
// 390 px the model picker shows a whole model name.
import { assert } from '../browser.mjs'

const EXCHANGES = 5

export async function access({ page, step, h }) {
  const focused = () => page.evaluate(() => {
    const el = document.activeElement
    const row = el?.closest('[role="toolbar"]')
    return { id: el?.id || '', label: el?.getAttribute('aria-label') || el?.textContent?.trim() || el?.tagName,
      message: el?.closest('article')?.dataset.messageId || null, toolbar: row ? [...document.querySelectorAll('[role="toolbar"]')].indexOf(row) : -1 }
  })

  await step(`a ${EXCHANGES}-exchange chat: Tab reaches the composer in one stop per message (was 44 presses)`, async () => {
    await h.newChat()
    for (let i = 1; i <= EXCHANGES; i += 1) await h.sendAndWait(`Keyboard reach question ${i}`)
    await page.reload() // from the top of a fresh document, as the review counted
    await page.waitForFunction(() => document.querySelector('#composer-input')?.disabled === false)
    await h.thread().locator('article').nth(2 * EXCHANGES - 1).locator('[role="toolbar"]').waitFor()
    const messages = await h.thread().locator('article').count()
    assert(messages === 2 * EXCHANGES, `${messages} messages on screen`)
    const stops = []
    for (let i = 0; i < 60 && (await focused()).id !== 'composer-input'; i += 1) {
      await page.keyboard.press('Tab')
      stops.push(await focused())
    }
    const inThread = stops.filter((s) => s.message !== null)
    const perMessage = new Map()
    for (const s of inThread) perMessage.set(s.message, (perMessage.get(s.message) || 0) + 1)
    const trail = stops.map((s) => s.label).join(' > ')
    assert(stops.at(-1)?.id === 'composer-input', `Tab reached the composer: ${trail}`)
    assert([...perMessage.values()].every((n) => n === 1), `one stop per message: ${JSON.stringify([...perMessage])}`)
    // besides the messages: the skip link, the sidebar (new chat, compare, leaderboard, account, search, the history
    // list as one stop, 3 theme buttons), the top bar (picker, card, shortcuts, settings), 2 spare (a code block)
    const bound = 2 * EXCHANGES + 16
    console.log(`# ${stops.length} Tab presses from the top of the page to the composer, ${inThread.length} in the thread`)
    assert(stops.length <= bound, `${stops.length} Tab presses to the composer (at most ${bound}; 44 before): ${trail}`)
  })

  await step('arrow keys move along a reply\'s action row; Tab leaves the row', async () => {
    const reply = h.thread().locator('article[data-role="assistant"]').first()
    const row = reply.locator('[role="toolbar"]')
    assert((await row.getAttribute('aria-label')) === 'Reply actions', 'the row is a labelled toolbar')
    const buttons = row.locator('button:not([disabled])')
    const count = await buttons.count()
    assert(count >= 3, `the row has its buttons (${count})`)
    assert((await row.locator('button[tabindex="0"]').count()) === 1, 'one of them is in the tab order')
    await row.locator('button[tabindex="0"]').focus()
    const first = await focused()
    await page.keyboard.press('ArrowRight')
    const second = await focused()
    assert(second.toolbar === first.toolbar && second.label !== first.label, `ArrowRight moved inside the row: ${first.label} -> ${second.label}`)
    await page.keyboard.press('End')
    assert(await buttons.last().evaluate((el) => el === document.activeElement), 'End goes to the last button')
    await page.keyboard.press('Home')
    assert((await focused()).label === first.label, 'Home goes back to the first')
    await page.keyboard.press('ArrowRight')
    await page.keyboard.press('Tab')
    assert((await focused()).toolbar !== first.toolbar, 'Tab leaves the row')
    await page.keyboard.press('Shift+Tab')
    assert((await focused()).label === second.label, 'coming back enters the row at the button used last')
  })

  await step('at phone width (390 px) the model picker shows the whole model name', async () => {
    const original = await page.inputValue('#model-select')
    await page.setViewportSize({ width: 390, height: 844 })
    // the names the review saw cut: the shipped model, not loaded yet
    await page.route('**/api/models', async (route) => {
      const body = await (await route.fetch()).json()
      body.models = body.models.map((m, i) => ({ ...m, id: i === 0 ? 'smollm2-chat' : m.id, loaded: false, loading: false }))
      await route.fulfill({ json: body })
    })
    await page.goto(`${h.base}/#/`)
    await page.reload()
    await page.waitForFunction(() => document.querySelector('#model-select option')?.value === 'smollm2-chat')
    await page.selectOption('#model-select', 'smollm2-chat')
    const fit = await page.evaluate(() => {
      const select = document.querySelector('#model-select')
      const style = getComputedStyle(select)
      const context = document.createElement('canvas').getContext('2d')
      context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`
      const label = select.selectedOptions[0].textContent
      const box = select.getBoundingClientRect()
      return { label, text: context.measureText(label).width, room: select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight),
        right: box.right, overflow: document.documentElement.scrollWidth - window.innerWidth }
    })
    assert(fit.label.startsWith('smollm2-chat') && fit.label.includes('not loaded'), `the option names the model and its state: ${fit.label}`)
    assert(fit.text <= fit.room, `"${fit.label}" (${Math.round(fit.text)} px) fits the select (${Math.round(fit.room)} px)`)
    assert(fit.right <= 390 && fit.overflow <= 0, `the picker is inside the screen (${JSON.stringify(fit)})`)
    const picker = await page.locator('#model-select').boundingBox()
    for (const name of ['Model card: smollm2-chat', 'Keyboard shortcuts', 'Settings']) {
      const box = await page.getByRole('button', { name, exact: true }).boundingBox()
      assert(box && box.x >= 0 && box.x + box.width <= 390, `${name} is on screen (${JSON.stringify(box)})`)
      if (name !== 'Model card: smollm2-chat') assert(box.y >= picker.y + picker.height, `${name} is on the row below the picker`)
    }
    if (process.env.LLMCHAT_E2E_SHOTS) await page.screenshot({ path: `${process.env.LLMCHAT_E2E_SHOTS}/phone-picker-light.png` })
    await page.unroute('**/api/models')
    await page.setViewportSize({ width: 1280, height: 800 })
    await page.goto(`${h.base}/#/`)
    await page.reload()
    await page.locator(`#model-select option[value="${original}"]`).waitFor({ state: 'attached' })
    await page.selectOption('#model-select', original)
  })
}

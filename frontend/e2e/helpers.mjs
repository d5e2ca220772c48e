// What the browser steps share: locators for the chat, waiting for a reply, settings, the history menu,
// and SSE bodies for the few replies the tiny random test model cannot be made to write.
import { assert } from './browser.mjs'

export function helpers(page, base) {
  const thread = () => page.locator('[data-testid="thread"]')
  const composer = () => page.locator('#composer-input')
  const lastReply = () => thread().locator('article[data-role="assistant"]').last()
  const entry = (id) => page.locator(`.conversation[data-id="${id}"]`)

  async function waitReplyDone(scope = thread()) {
    const reply = scope.locator('article[data-role="assistant"]').last()
    await reply.locator('[data-testid="message-meta"]').waitFor()
    return reply
  }

  async function sendAndWait(text) {
    await composer().fill(text)
    const response = page.waitForResponse((r) => r.url().endsWith('/api/chat') && r.request().method() === 'POST')
    await composer().press('Enter')
    const answer = await response
    const reply = await waitReplyDone()
    await page.waitForFunction(() => !document.querySelector('[data-testid="thread"] article[data-status="streaming"]'))
    return { answer, reply }
  }

  /** Wait until the reply being written has its saved row (the server's `start` came: its id is a number). */
  async function replyStarted() {
    await page.waitForFunction(() => {
      const a = [...document.querySelectorAll('article[data-role="assistant"]')].pop()
      return a && /^\d+$/.test(a.dataset.messageId)
    })
  }

  /** Type values into the settings drawer (key -> value), Tab out of each so it is applied, then close it. */
  async function setSettings(values) {
    await page.locator('[data-testid="open-settings"]').click()
    await page.locator('[data-testid="settings"]').waitFor()
    for (const [key, value] of Object.entries(values)) {
      const labels = { temperature: 'Temperature value', top_p: 'Top p value' }
      const field = labels[key] ? page.locator(`[aria-label="${labels[key]}"]`) : page.locator(`#set-${key}`)
      // Typed again if the field shows another value once it has settled: a field the drawer re-rendered between
      // the typing and the Tab keeps the old value (seen once in CI: max tokens stayed 4 where 1 was typed).
      for (let attempt = 0; attempt < 3; attempt += 1) {
        await field.fill(String(value))
        await field.press('Tab')
        if (await shows(field, value)) break
      }
      assert(await shows(field, value), `settings: ${key} shows ${value}`)
    }
    await page.keyboard.press('Escape')
    await page.locator('[data-testid="settings"]').waitFor({ state: 'detached' })
  }

  /** Whether `field` shows `value` (polled for up to a second: the drawer applies a change on blur). */
  async function shows(field, value) {
    for (let i = 0; i < 10; i += 1) {
      const shown = await field.inputValue()
      if (typeof value === 'number' ? Number(shown) === value : shown === String(value)) return true
      await page.waitForTimeout(100)
    }
    return false
  }

  async function resetSettings() {
    await page.locator('[data-testid="open-settings"]').click()
    const reset = page.locator('[data-testid="reset-settings"]')
    if (await reset.isEnabled()) await reset.click()
    await page.keyboard.press('Escape')
  }

  /** Open a history entry's action menu and pick `action` (rename, export-markdown, export-json, delete). */
  async function entryAction(id, action) {
    const item = entry(id)
    await item.hover()
    await item.locator('[data-action="menu"]').click()
    await item.locator(`[role="menuitem"][data-action="${action}"]`).waitFor()
    return item.locator(`[role="menuitem"][data-action="${action}"]`)
  }

  function conversationIdFromUrl() {
    const match = /#\/(?:c|compare)\/(.+)$/.exec(page.url())
    assert(match, `the URL names the conversation: ${page.url()}`)
    return decodeURIComponent(match[1])
  }

  const api = (path, init) => page.evaluate(async ([p, i]) => {
    const r = await fetch(p, i)
    return { status: r.status, headers: Object.fromEntries(r.headers), body: await r.text() }
  }, [path, init || {}])

  async function newChat() {
    await page.locator('[data-testid="new-chat"]').click()
    await page.waitForFunction(() => location.hash === '#/' || location.hash === '')
  }

  return { thread, composer, lastReply, entry, waitReplyDone, replyStarted, sendAndWait, setSettings, resetSettings, entryAction,
    conversationIdFromUrl, api, newChat, base }
}

/** An SSE response body from [event, data] pairs. */
export function sseBody(frames) {
  return frames.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join('')
}

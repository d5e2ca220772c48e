// Honest states: an empty reply says so, a Retry that worked clears its error line and toast, the length limit is
// shown before sending, out-of-range settings are shown corrected, bad links get a message, loading says loading
// (the models list, and a model the worker loads on its first reply), and switching model mid-chat applies from the
// next message (the sidebar names every model used).
import { assert } from '../browser.mjs'
import { sseBody } from '../helpers.mjs'

export async function states({ page, step, h, shared }) {
  const { composer, thread, lastReply, entry } = h

  await step('an empty reply says it is empty', async () => {
    // The tiny random model cannot be made to answer nothing: this one reply is served by the browser.
    await page.route('**/api/chat', (route) => route.fulfill({ status: 200, contentType: 'text/event-stream', body: sseBody([
      ['start', { conversation_id: 'empty-probe', user_message: { id: 801, role: 'user', content: 'say nothing', status: 'complete' },
        message: { id: 802, role: 'assistant', content: '', status: 'streaming', model: 'probe' } }],
      ['done', { conversation_id: 'empty-probe', message: { id: 802, role: 'assistant', content: '', status: 'complete', finish_reason: 'stop',
        model: 'probe', response_time_ms: 1400, usage: { completion_tokens: 1 } } }]]) }))
    await h.newChat()
    await composer().fill('say nothing')
    await composer().press('Enter')
    const reply = await h.waitReplyDone()
    await page.unroute('**/api/chat')
    assert((await reply.locator('[data-testid="empty-reply"]').innerText()).includes('empty reply'), 'the empty reply is named')
    const meta = await reply.locator('[data-testid="message-meta"]').innerText()
    assert(meta.includes('1 token') && !meta.includes('1 tokens'), `singular: ${meta}`)
    await page.goto(`${h.base}/#/`)
  })

  await step('model server down: the saved message stays; a Retry that works clears the error line and its toast', async () => {
    // What the real API answers when no model server is reachable (docs/api.md): 503 + the saved message.
    const saved = { id: 901, role: 'user', content: 'asked while the worker was down', model: 'x', status: 'error', parent_id: null, sibling_ids: [901] }
    await page.route('**/api/chat', (route) => route.fulfill({ status: 503, contentType: 'application/json',
      headers: { 'Retry-After': '5' }, body: JSON.stringify({ error: { message: 'model server unavailable', code: 'worker_unavailable' },
        conversation_id: 'down-probe', user_message: saved }) }))
    await page.route('**/api/conversations/down-probe', (route) => route.fulfill({ status: 200, contentType: 'application/json',
      body: JSON.stringify({ id: 'down-probe', title: 'probe', kind: 'chat', messages: [saved] }) }))
    await h.newChat()
    await composer().fill(saved.content)
    await composer().press('Enter')
    const toast = page.locator('[data-testid="toast-error"]').filter({ hasText: 'model server unavailable. Retry in 5 s.' })
    await toast.waitFor()
    const user = thread().locator('article[data-role="user"]')
    await user.filter({ hasText: saved.content }).waitFor()
    await page.locator('[data-testid="not-answered"]').waitFor()
    assert((await composer().inputValue()) === '', 'not also put back in the box (it would be sent twice)')
    await page.unroute('**/api/chat')
    await page.route('**/api/conversations/down-probe/regenerate', (route) => route.fulfill({ status: 200, contentType: 'text/event-stream',
      body: sseBody([['start', { conversation_id: 'down-probe', user_message: { ...saved }, message: { id: 902, role: 'assistant', content: '', status: 'streaming' } }],
        ['delta', { content: 'Back again.' }],
        ['done', { conversation_id: 'down-probe', message: { id: 902, role: 'assistant', content: 'Back again.', status: 'complete', model: 'x', finish_reason: 'stop' } }]]) }))
    await page.locator('[data-testid="retry"]').click()
    await lastReply().filter({ hasText: 'Back again.' }).locator('[data-testid="message-meta"]').waitFor()
    await page.locator('[data-testid="not-answered"]').waitFor({ state: 'detached' })
    await toast.waitFor({ state: 'detached', timeout: 2000 })
    await page.unroute('**/api/conversations/down-probe/regenerate')
    await page.unroute('**/api/conversations/down-probe')
    await page.goto(`${h.base}/#/`)
  })

  await step('a long message: a live counter near the limit, Send disabled over it, nothing sent', async () => {
    const limits = JSON.parse((await h.api('/api/limits')).body)
    const max = limits.max_message_chars
    assert(Number.isInteger(max) && max > 0, `GET /api/limits names the limit (${max})`)
    let sent = 0
    const count = (r) => { if (r.url().endsWith('/api/chat')) sent += 1 }
    page.on('request', count)
    await composer().fill('y'.repeat(max - 10))
    const counter = page.locator('[data-testid="char-counter"]')
    assert((await counter.innerText()) === `${(max - 10).toLocaleString('en-US')} / ${max.toLocaleString('en-US')}`, 'counter near the limit')
    assert(await page.locator('[data-testid="send"]').isEnabled(), 'Send works under the limit')
    await composer().fill('y'.repeat(max + 2000))
    assert((await counter.innerText()).startsWith('2,000 characters over the limit'), `over: ${await counter.innerText()}`)
    assert(await page.locator('[data-testid="send"]').isDisabled(), 'Send disabled over the limit')
    await composer().press('Enter')
    await page.waitForTimeout(300)
    page.off('request', count)
    assert(sent === 0, 'nothing was sent')
    assert((await composer().inputValue()).length === max + 2000, 'the text stays in the box')
    await composer().fill('')
  })

  await step('out-of-range settings are shown corrected, with the allowed range', async () => {
    const limits = JSON.parse((await h.api('/api/limits')).body).params
    await page.locator('[data-testid="open-settings"]').click()
    await page.locator('#set-max_tokens').fill('99999')
    await page.locator('#set-max_tokens').press('Tab')
    const maxTokens = limits.max_tokens.maximum
    assert((await page.locator('#set-max_tokens').inputValue()) === String(maxTokens), 'the field shows the corrected value')
    const note = await page.locator('[data-testid="note-max_tokens"]').innerText()
    assert(note === `99999 is above the maximum: set to ${maxTokens} (allowed 1–${maxTokens}).`, `max tokens note: ${note}`)
    await page.locator('[aria-label="Temperature value"]').fill('9')
    await page.locator('[aria-label="Temperature value"]').press('Tab')
    const temp = await page.locator('[data-testid="note-temperature"]').innerText()
    assert(temp === '9 is above the maximum: set to 2 (allowed 0–2).', `temperature note: ${temp}`)
    assert((await page.locator('[data-testid="settings"]').innerText()).includes(`allowed 0–${limits.memory_window.maximum}`), 'memory window range shown')
    await page.locator('[data-testid="reset-settings"]').click()
    await page.keyboard.press('Escape')
  })

  await step('bad deep links are answered with a message, not a crash', async () => {
    for (const [hash, words] of [['#/c/%', 'is not a link to a conversation'], ['#/c/no-such-conversation', 'does not exist']]) {
      await page.goto(`${h.base}/${hash}`)
      const notice = page.locator('[data-testid="route-notice"]')
      await notice.waitFor()
      assert((await notice.innerText()).includes(words), `${hash}: ${await notice.innerText()}`)
      assert(await page.locator('#composer-input').isVisible(), 'a new chat can start right there')
    }
    await page.goto(`${h.base}/#/`)
    await page.locator('[data-testid="route-notice"]').waitFor({ state: 'detached' })
  })

  await step('while the models load, the page says it is loading (not a set-up error)', async () => {
    let release
    const held = new Promise((resolve) => (release = resolve))
    await page.route('**/api/models', async (route) => {
      await held
      await route.continue()
    })
    await page.reload()
    const state = page.locator('[data-testid="models-state"]')
    await state.waitFor()
    const text = await state.innerText()
    assert(/loading/i.test(text) && !/connect/i.test(text), `loading state: ${text}`)
    release()
    await page.locator('[data-testid="models-state"]').waitFor({ state: 'detached' })
    await page.unroute('**/api/models')
  })

  await step('model server down when the page opens: it says so, takes a draft, and recovers by itself when the server is back', async () => {
    // what the API answers while no model server is reachable (docs/api.md): 503 worker_unavailable
    let down = true
    await page.route('**/api/models', (route) => (down
      ? route.fulfill({ status: 503, contentType: 'application/json', headers: { 'Retry-After': '5' },
        body: JSON.stringify({ error: { message: 'no model server is reachable', code: 'worker_unavailable' } }) })
      : route.continue()))
    await page.goto(`${h.base}/#/`)
    await page.reload() // a change of the hash alone does not load the page again
    const state = page.locator('[data-testid="models-state"]')
    await page.waitForFunction(() => /trying again in \d+ s/.test(document.querySelector('[data-testid="models-state"]')?.textContent || ''))
    const text = await state.innerText()
    assert(!/chat server/i.test(text) && /model server/i.test(text), `names the model server, not the chat server: ${text}`)
    await composer().fill('a draft typed while the model server is down')
    assert(await page.locator('[data-testid="send"]').isDisabled(), 'Send waits for a model')
    down = false
    await state.waitFor({ state: 'detached', timeout: 15000 })
    await page.waitForFunction(() => document.querySelectorAll('#model-select option[value]:not([value=""])').length > 0)
    assert((await composer().inputValue()) === 'a draft typed while the model server is down', 'the draft is still there')
    assert(await page.locator('[data-testid="send"]').isEnabled(), 'and can be sent now, without a reload')
    await composer().fill('')
    await page.unroute('**/api/models')
  })

  await step('a model the worker has not loaded: the picker says so, the reply says "Loading <model>…" until its first token', async () => {
    // the fine-tuning run is unloaded before the browser starts (test_browser.py): its first reply loads it
    const listed = JSON.parse((await h.api('/api/models')).body).models
    const cold = listed.find((m) => m.loaded === false)
    assert(cold, `a model that is not loaded: ${JSON.stringify(listed.map((m) => [m.id, m.loaded]))}`)
    const before = await page.locator('#model-select').inputValue()
    await page.selectOption('#model-select', cold.id)
    const badge = page.locator('[data-testid="model-select-load-state"]')
    assert((await badge.innerText()) === 'not loaded', 'the selected model is marked not loaded')
    assert((await page.locator(`#model-select option[value="${cold.id}"]`).innerText()).includes('(not loaded)'), 'its option too')
    await h.newChat()
    // the note may show for well under a second (a tiny model loads fast): record every text it showed
    await page.evaluate(() => {
      window.__loadingNotes = []
      new MutationObserver(() => {
        const note = document.querySelector('[data-testid="loading-model"]')
        if (note) window.__loadingNotes.push(note.textContent)
      }).observe(document.body, { childList: true, subtree: true, characterData: true })
    })
    await h.sendAndWait('Are you awake?')
    const notes = await page.evaluate(() => window.__loadingNotes)
    assert(notes.some((text) => text.includes(`Loading ${cold.id}…`)), `the pending reply said it was loading: ${notes}`)
    assert(!(await lastReply().locator('[data-testid="loading-model"]').count()), 'gone once the reply came')
    await badge.waitFor({ state: 'detached' }) // the list is asked again after the reply: it is loaded now
    await page.selectOption('#model-select', before)
  })

  await step('switching model mid-chat applies from the next message; the sidebar names both models', async () => {
    const [first, second] = shared.models
    await page.selectOption('#model-select', first.id)
    await h.newChat()
    await h.sendAndWait('Which model am I talking to?')
    const id = h.conversationIdFromUrl()
    await page.selectOption('#model-select', second.id)
    const notice = await page.locator('[data-testid="model-switch"]').innerText()
    assert(notice.includes(first.id) && notice.includes(second.id), `says what changes: ${notice}`)
    const earlier = await lastReply().locator('[data-testid="message-meta"]').innerText()
    await h.sendAndWait('And now?')
    const replies = thread().locator('article[data-role="assistant"]')
    assert((await replies.first().locator('[data-testid="message-meta"]').innerText()) === earlier, 'the earlier reply keeps its model')
    assert((await replies.last().locator('[data-testid="message-meta"]').innerText()).includes(second.id), 'the new reply is from the new model')
    await page.waitForFunction(([cid, a, b]) => document.querySelector(`.conversation[data-id="${cid}"] .conversation-meta`)?.textContent.includes(`${a} + ${b}`),
      [id, first.id, second.id])
    assert((await entry(id).locator('.conversation-meta').innerText()).includes(`${first.id} + ${second.id}`), 'sidebar names both models')
    await page.selectOption('#model-select', first.id)
  })
}

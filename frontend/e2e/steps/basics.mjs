// The chat basics: models, a streamed reply, reload, rename, export, settings, Stop, errors, XSS, delete, phone.
import { assert } from '../browser.mjs'
import { sseBody } from '../helpers.mjs'

const XSS = '<img src=x onerror="window.__xss=1"> <script>window.__xss=2</script> [link](javascript:window.__xss=3)'

export async function basics({ page, step, h, shared }) {
  const { composer, thread, entry } = h
  const xssFired = () => page.evaluate(() => window.__xss)

  await step('loads the app and lists the models with kind and prompt style', async () => {
    await page.goto(h.base)
    await page.waitForFunction(() => document.querySelectorAll('#model-select option[value]:not([value=""])').length > 0)
    shared.models = await page.evaluate(() => fetch('/api/models').then((r) => r.json()).then((d) => d.models))
    const options = await page.locator('#model-select option').allTextContents()
    assert(options.length === shared.models.length, `one option per model (${options.length} vs ${shared.models.length})`)
    for (const m of shared.models) assert(options.some((o) => o.includes(m.id) && o.includes(m.kind) && o.includes(m.prompt_style)), `option for ${m.id}`)
  })
  const { models } = shared

  await step('picks a model and keeps the choice across a reload', async () => {
    const chosen = models[models.length - 1].id
    await page.selectOption('#model-select', chosen)
    await page.reload()
    await page.waitForFunction((id) => document.querySelector('#model-select')?.value === id, chosen)
    await page.locator('[data-testid="model-select-info"]').waitFor()
    await page.selectOption('#model-select', models[0].id)
  })

  await step('sends with Enter and streams the reply in (SSE); counts say "token" or "tokens"', async () => {
    const { answer, reply } = await h.sendAndWait('Hello! Please introduce yourself.')
    assert((answer.headers()['content-type'] || '').includes('text/event-stream'), 'the reply came as an event stream')
    assert((await reply.getAttribute('data-status')) === 'complete', 'reply complete')
    assert((await reply.locator('.markdown').innerText()).trim().length > 0, 'reply has text')
    const meta = await reply.locator('[data-testid="message-meta"]').innerText()
    assert(meta.includes(models[0].id), `meta names the model: ${meta}`)
    assert(/\d+(\.\d)? ?(ms|s)\b/.test(meta), `meta shows the response time: ${meta}`)
    assert(/\b(1 token|([02-9]|\d\d+) tokens)\b/.test(meta), `meta shows the token count in the right number: ${meta}`)
    assert((await composer().inputValue()) === '', 'composer cleared after sending')
    shared.firstId = h.conversationIdFromUrl()
    shared.firstStream = await answer.text()
  })

  await step('after the first exchange the model writes the title in the background; the sidebar shows it without a reload', async () => {
    const id = shared.firstId
    assert(!shared.firstStream.includes('event: title'), 'the stream ends with the reply: nothing waits for the title')
    let detail = null
    for (let i = 0; i < 150 && (!detail || detail.title_pending); i += 1) {
      if (detail) await page.waitForTimeout(200)
      detail = JSON.parse((await h.api(`/api/conversations/${id}`)).body)
    }
    assert(!detail.title_pending, 'the title was written once the model server was idle')
    const saved = detail.title
    assert(saved !== 'Hello! Please introduce yourself.', `the model's title (titles.source: model), not the first line: ${saved}`)
    await page.waitForFunction(([cid, t]) => document.querySelector(`.conversation[data-id="${cid}"] .conversation-title`)?.textContent === t, [id, saved])
    assert((await page.locator('[data-testid="topbar-title"]').innerText()) === saved, 'the top bar shows the same title')
  })

  await step('Shift+Enter makes a new line instead of sending', async () => {
    await composer().fill('line one')
    await composer().press('Shift+Enter')
    await composer().type('line two')
    assert((await composer().inputValue()) === 'line one\nline two', 'two lines in the box')
    assert((await thread().locator('article').count()) === 2, 'nothing was sent')
    await composer().fill('')
  })

  await step('reload reopens the conversation and lists it in the sidebar', async () => {
    await page.reload()
    await thread().locator('article[data-role="user"]').first().waitFor()
    const userText = await thread().locator('article[data-role="user"]').first().innerText()
    assert(userText.includes('introduce yourself'), 'user message restored')
    await entry(shared.firstId).waitFor()
    assert(await entry(shared.firstId).evaluate((el) => el.classList.contains('active')), 'it is the active item')
  })

  await step('renames a conversation from its menu (and the new title survives a reload)', async () => {
    await (await h.entryAction(shared.firstId, 'rename')).click()
    await entry(shared.firstId).locator('input').fill('Renamed by e2e')
    await entry(shared.firstId).locator('input').press('Enter')
    const shows = () => page.waitForFunction((id) => document.querySelector(`.conversation[data-id="${id}"] .conversation-title`)?.textContent === 'Renamed by e2e', shared.firstId)
    await shows()
    await page.reload()
    await shows()
  })

  await step('narrow laptop (1024 px): the conversation title in the top bar stays readable', async () => {
    await page.setViewportSize({ width: 1024, height: 700 })
    const title = page.locator('.topbar-title')
    await title.waitFor()
    const width = await title.evaluate((el) => el.getBoundingClientRect().width)
    assert(width >= 120, `the title has room (${Math.round(width)} px)`)
    await page.setViewportSize({ width: 1280, height: 800 })
  })

  await step('exports Markdown and JSON attachments named after the title', async () => {
    await h.entryAction(shared.firstId, 'export-markdown')
    const links = entry(shared.firstId).locator('.menu a')
    assert((await links.count()) === 2, 'two export formats offered')
    for (const [index, format, ext] of [[0, 'markdown', 'md'], [1, 'json', 'json']]) {
      const href = await links.nth(index).getAttribute('href')
      assert(href.includes(`format=${format}`), `${format} link: ${href}`)
      const response = await page.request.get(new URL(href, h.base).toString())
      assert(response.ok(), `${format} export answered ${response.status()}`)
      const disposition = response.headers()['content-disposition'] || ''
      assert(disposition.includes('attachment'), `${format} is an attachment`)
      assert(new RegExp(`filename="renamed[-_]by[-_]e2e\\.${ext}"`, "i").test(disposition), `${format} file is named after the title: ${disposition}`)
      assert((await response.text()).includes('introduce yourself'), `${format} export has the messages`)
    }
    await page.keyboard.press('Escape')
    await links.first().waitFor({ state: 'detached' })
  })

  await step('settings start at the model defaults and persist', async () => {
    const defaults = models[0].default_params
    await page.locator('[data-testid="open-settings"]').click()
    assert(Number(await page.locator('#set-max_tokens').inputValue()) === defaults.max_tokens, `max tokens default ${defaults.max_tokens}`)
    await page.keyboard.press('Escape')
    await h.setSettings({ max_tokens: 24, system_prompt: 'You are terse.' })
    await page.reload()
    await page.locator('[data-testid="open-settings"]').click()
    assert((await page.locator('#set-max_tokens').inputValue()) === '24', 'max tokens kept')
    assert((await page.locator('#set-system_prompt').inputValue()) === 'You are terse.', 'system prompt kept')
    await page.keyboard.press('Escape')
  })

  await step('Stop ends a streaming reply, keeps what was written and unlocks the composer', async () => {
    await h.setSettings({ max_tokens: 450 })
    await composer().fill('Tell me a long story.')
    await composer().press('Enter')
    assert(await composer().isDisabled(), 'composer locked while sending')
    await h.replyStarted() // the server has saved the reply row: there is something to keep
    await page.locator('[data-testid="stop"]').click()
    const reply = await h.waitReplyDone()
    assert((await reply.getAttribute('data-status')) === 'stopped', `stopped (${await reply.getAttribute('data-status')})`)
    assert(!(await composer().isDisabled()), 'composer unlocked')
    const id = await reply.getAttribute('data-message-id')
    await page.reload()
    const saved = page.locator(`article[data-message-id="${id}"]`)
    await saved.locator('[data-testid="message-meta"]').waitFor()
    assert((await saved.getAttribute('data-status')) === 'stopped', 'saved as stopped')
    assert(await saved.getByRole('button', { name: 'Continue' }).isVisible(), 'a stopped reply can be continued')
    await h.resetSettings()
  })

  await step('an XSS payload sent to the real API stays inert (also after reload)', async () => {
    await h.sendAndWait(XSS)
    for (const pass of ['live', 'reloaded']) {
      assert((await xssFired()) === undefined, `window.__xss stays undefined (${pass})`)
      assert((await page.locator('[data-testid="thread"] img, [data-testid="thread"] script, .markdown svg').count()) === 0, `no img/script (${pass})`)
      const text = await thread().locator('article[data-role="user"]').last().innerText()
      assert(text.includes('onerror'), `the payload is shown as text (${pass})`)
      if (pass === 'live') {
        await page.reload()
        await thread().locator('article[data-role="user"]').last().waitFor()
      }
    }
  })

  await step('a reply that carries HTML/script/javascript: is rendered inert', async () => {
    // The tiny test model writes random text, so this one reply is served by the browser itself:
    // what is under test is the page's markdown + DOMPurify path on a real SSE body.
    const content = '## Hi\n\n' + XSS + '\n\n<svg onload="window.__xss=4"></svg>\n\n[ok](https://example.com)\n\n```python\nprint("copied!")\n```\n'
    await page.route('**/api/chat', (route) => route.fulfill({ status: 200, contentType: 'text/event-stream', body: sseBody([
      ['start', { conversation_id: 'xss-probe', user_message: { id: 'u', role: 'user', content: 'x', status: 'complete' } }],
      ['delta', { content }],
      ['done', { conversation_id: 'xss-probe', message: { id: 'a', role: 'assistant', status: 'complete', model: 'probe', content,
        response_time_ms: 5, usage: { completion_tokens: 3 } } }]]) }))
    await page.locator('[data-testid="new-chat"]').click()
    await composer().fill('probe')
    await composer().press('Enter')
    const reply = await h.waitReplyDone()
    await page.unroute('**/api/chat')
    await page.waitForTimeout(300)
    assert((await xssFired()) === undefined, 'window.__xss stays undefined')
    assert((await reply.locator('.markdown img, .markdown script, .markdown svg').count()) === 0, 'no img/script/svg element')
    const hrefs = await reply.locator('.markdown a').evaluateAll((as) => as.map((a) => a.getAttribute('href')))
    assert(hrefs.every((x) => x === null || !/^javascript:/i.test(x)), `no javascript: href (${hrefs})`)
    assert(hrefs.includes('https://example.com'), 'a safe link survives')
    assert((await reply.locator('.code-block code .hljs-built_in').first().innerText()) === 'print', 'code is highlighted')
    await reply.locator('.copy-code').click()
    await reply.locator('.copy-code', { hasText: 'Copied' }).waitFor()
    assert((await page.evaluate(() => navigator.clipboard.readText())) === 'print("copied!")\n', 'the copy button copied the code')
    await page.goto(`${h.base}/#/`)
  })

  await step('API errors show a message and keep the typed text', async () => {
    await page.route('**/api/chat', (route) => route.fulfill({ status: 429, contentType: 'application/json',
      headers: { 'Retry-After': '7' }, body: JSON.stringify({ error: { message: 'Too many requests', code: 'rate_limited' } }) }))
    await composer().fill('a carefully typed question')
    await composer().press('Enter')
    await page.locator('[data-testid="toast-error"]').filter({ hasText: 'Retry in 7 s' }).waitFor()
    assert((await composer().inputValue()) === 'a carefully typed question', 'text kept after 429')
    await page.unroute('**/api/chat')
    await page.route('**/api/chat', (route) => route.abort('connectionrefused'))
    await composer().press('Enter')
    await page.locator('[data-testid="toast-error"]').filter({ hasText: 'Cannot reach' }).waitFor()
    assert((await composer().inputValue()) === 'a carefully typed question', 'text kept when the network is down')
    await page.unroute('**/api/chat')
    await composer().fill('')
    for (const close of await page.locator('.toast button[aria-label="Dismiss"]').all()) await close.click().catch(() => {})
  })

  await step('deletes a conversation after confirming', async () => {
    await page.goto(`${h.base}/#/c/${encodeURIComponent(shared.firstId)}`)
    await entry(shared.firstId).waitFor()
    await (await h.entryAction(shared.firstId, 'delete')).click()
    await page.locator('[role="alertdialog"]').waitFor()
    await page.locator('[data-testid="confirm"]').click()
    await entry(shared.firstId).waitFor({ state: 'detached' })
    await page.reload()
    const remaining = JSON.parse((await h.api('/api/conversations')).body).conversations
    assert(!remaining.some((c) => c.id === shared.firstId), 'the server no longer lists it')
    // the reloaded list has loaded once it shows the server's newest conversation, or says there is none: only then
    // does an absent entry mean gone
    const list = page.locator('[data-testid="conversation-list"]')
    await (remaining.length ? entry(remaining[0].id) : list.locator('.empty-list')).waitFor()
    assert((await entry(shared.firstId).count()) === 0, 'gone after reload')
    assert(!page.url().includes(shared.firstId), 'left the deleted conversation')
  })

  await step('phone width: the sidebar collapses behind a menu button; the drawer keeps Tab inside', async () => {
    await page.setViewportSize({ width: 390, height: 844 })
    assert(!(await page.locator('.sidebar').isVisible()), 'sidebar hidden')
    await page.locator('.menu-btn').focus()
    await page.keyboard.press('Enter')
    await page.waitForFunction(() => document.activeElement?.closest('.sidebar.open'))
    for (let i = 0; i < 12; i += 1) {
      await page.keyboard.press('Tab')
      assert(await page.evaluate(() => !!document.activeElement?.closest('.sidebar')), `Tab ${i + 1} stays in the drawer`)
    }
    await page.keyboard.press('Escape')
    await page.waitForFunction(() => !document.querySelector('.sidebar.open'))
    assert(await page.evaluate(() => document.activeElement?.classList.contains('menu-btn')), 'focus is back on the menu button')
    await page.setViewportSize({ width: 1280, height: 800 })
  })

  await step('keyboard: the settings drawer keeps Tab inside and gives focus back when it closes', async () => {
    await page.locator('[data-testid="open-settings"]').focus()
    await page.keyboard.press('Enter')
    await page.locator('[data-testid="settings"]').waitFor()
    for (let i = 0; i < 16; i += 1) await page.keyboard.press('Tab')
    assert(await page.evaluate(() => !!document.activeElement?.closest('[data-testid="settings"]')), 'Tab stays in the drawer')
    await page.keyboard.press('Escape')
    await page.locator('[data-testid="settings"]').waitFor({ state: 'detached' })
    assert(await page.evaluate(() => document.activeElement?.dataset.testid === 'open-settings'), 'focus is back on Settings')
  })

  shared.xssFired = xssFired
}

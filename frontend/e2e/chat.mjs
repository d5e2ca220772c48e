// End-to-end in Chromium against a running llmchat (real API + worker): `node e2e/chat.mjs http://127.0.0.1:PORT`.
// Covers: pick a model, streamed reply, reload keeps the conversation, rename, settings persistence, regenerate,
// Stop, API errors keep the typed text, XSS stays inert, compare view, delete with confirm, phone layout.
import { assert, createRunner, launch } from './browser.mjs'

const base = (process.argv[2] || '').replace(/\/$/, '')
if (!base) {
  console.error('usage: node e2e/chat.mjs <url of the app>')
  process.exit(2)
}
const TIMEOUT = Number(process.env.LLMCHAT_E2E_TIMEOUT_MS || 60000)
const XSS = '<img src=x onerror="window.__xss=1"> <script>window.__xss=2</script> [link](javascript:window.__xss=3)'

const browser = await launch()
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base })
const page = await context.newPage()
page.setDefaultTimeout(TIMEOUT)
const pageErrors = []
page.on('pageerror', (err) => {
  pageErrors.push(err.message)
  console.log(`# page error: ${err.message}`)
})
// the API's Content-Security-Policy must never block what the app itself does (Chromium logs each refusal)
const cspViolations = []
page.on('console', (msg) => {
  if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) {
    cspViolations.push(msg.text())
    console.log(`# CSP violation: ${msg.text()}`)
  }
})
const step = createRunner(page)

const lastReply = () => page.locator('[data-testid="thread"] article[data-role="assistant"]').last()
const composer = () => page.locator('#composer-input')
const xssFired = () => page.evaluate(() => window.__xss)

async function waitReplyDone(scope = page.locator('[data-testid="thread"]')) {
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
  return { answer, reply }
}

let models = []
let conversationId = ''
try {
  await step('loads the app and lists the models with kind and prompt style', async () => {
    await page.goto(base)
    await page.waitForFunction(() => document.querySelectorAll('#model-select option[value]:not([value=""])').length > 0)
    models = await page.evaluate(() => fetch('/api/models').then((r) => r.json()).then((d) => d.models))
    const options = await page.locator('#model-select option').allTextContents()
    assert(options.length === models.length, `one option per model (${options.length} vs ${models.length})`)
    for (const m of models) assert(options.some((o) => o.includes(m.id) && o.includes(m.kind) && o.includes(m.prompt_style)), `option for ${m.id}`)
  })

  await step('picks a model and keeps the choice across a reload', async () => {
    const chosen = models[models.length - 1].id
    await page.selectOption('#model-select', chosen)
    await page.reload()
    await page.waitForFunction((id) => document.querySelector('#model-select')?.value === id, chosen)
    await page.locator('[data-testid="model-select-info"]').waitFor()
    await page.selectOption('#model-select', models[0].id)
  })

  await step('sends with Enter and streams the reply in (SSE)', async () => {
    const { answer, reply } = await sendAndWait('Hello! Please introduce yourself.')
    assert((answer.headers()['content-type'] || '').includes('text/event-stream'), 'the reply came as an event stream')
    assert((await reply.getAttribute('data-status')) === 'complete', 'reply complete')
    assert((await reply.locator('.markdown').innerText()).trim().length > 0, 'reply has text')
    const meta = await reply.locator('[data-testid="message-meta"]').innerText()
    assert(meta.includes(models[0].id), `meta names the model: ${meta}`)
    assert(/\d+(\.\d)? ?(ms|s)\b/.test(meta), `meta shows the response time: ${meta}`)
    assert(/\d+ tokens/.test(meta), `meta shows the token count: ${meta}`)
    assert((await composer().inputValue()) === '', 'composer cleared after sending')
    const match = /#\/c\/(.+)$/.exec(page.url())
    assert(match, `the URL names the conversation: ${page.url()}`)
    conversationId = decodeURIComponent(match[1])
  })

  await step('Shift+Enter makes a new line instead of sending', async () => {
    await composer().fill('line one')
    await composer().press('Shift+Enter')
    await composer().type('line two')
    assert((await composer().inputValue()) === 'line one\nline two', 'two lines in the box')
    assert((await page.locator('[data-testid="thread"] article').count()) === 2, 'nothing was sent')
    await composer().fill('')
  })

  await step('reload reopens the conversation and lists it in the sidebar', async () => {
    await page.reload()
    await page.locator('[data-testid="thread"] article[data-role="user"]').first().waitFor()
    const userText = await page.locator('[data-testid="thread"] article[data-role="user"]').first().innerText()
    assert(userText.includes('introduce yourself'), 'user message restored')
    const item = page.locator(`.conversation[data-id="${conversationId}"]`)
    await item.waitFor()
    assert(await item.evaluate((el) => el.classList.contains('active')), 'it is the active item')
  })

  await step('renames a conversation (and the new title survives a reload)', async () => {
    const item = page.locator(`.conversation[data-id="${conversationId}"]`)
    await item.hover()
    await item.locator('[data-action="rename"]').click()
    await item.locator('input').fill('Renamed by e2e')
    await item.locator('input').press('Enter')
    await page.waitForFunction((id) => document.querySelector(`.conversation[data-id="${id}"] .conversation-title`)?.textContent === 'Renamed by e2e', conversationId)
    await page.reload()
    await page.waitForFunction((id) => document.querySelector(`.conversation[data-id="${id}"] .conversation-title`)?.textContent === 'Renamed by e2e', conversationId)
  })

  await step('narrow laptop (1024 px): the conversation title in the top bar stays readable', async () => {
    await page.setViewportSize({ width: 1024, height: 700 })
    const title = page.locator('.topbar-title')
    await title.waitFor()
    const width = await title.evaluate((el) => el.getBoundingClientRect().width)
    assert(width >= 120, `the title has room (${Math.round(width)} px)`)
    await page.setViewportSize({ width: 1280, height: 800 })
  })

  await step('exports a conversation as Markdown and JSON attachments', async () => {
    const item = page.locator(`.conversation[data-id="${conversationId}"]`)
    await item.hover()
    await item.locator('[data-action="export"]').click()
    const links = item.locator('.menu a')
    assert((await links.count()) === 2, 'two export formats offered')
    for (const [index, format] of [[0, 'markdown'], [1, 'json']]) {
      const href = await links.nth(index).getAttribute('href')
      assert(href.includes(`format=${format}`), `${format} link: ${href}`)
      const response = await page.request.get(new URL(href, base).toString())
      assert(response.ok(), `${format} export answered ${response.status()}`)
      assert((response.headers()['content-disposition'] || '').includes('attachment'), `${format} is an attachment`)
      assert((await response.text()).includes('introduce yourself'), `${format} export has the messages`)
    }
    await page.keyboard.press('Escape')
    await links.first().waitFor({ state: 'detached' })
  })

  await step('settings start at the model defaults and persist', async () => {
    await page.locator('[data-testid="open-settings"]').click()
    const panel = page.locator('[data-testid="settings"]')
    await panel.waitFor()
    const defaults = models[0].default_params
    const maxTokens = panel.locator('#set-max_tokens')
    assert(Number(await maxTokens.inputValue()) === defaults.max_tokens, `max tokens default ${defaults.max_tokens}`)
    await maxTokens.fill('24')
    await maxTokens.press('Tab')
    await panel.locator('#set-system_prompt').fill('You are terse.')
    await panel.locator('#set-system_prompt').press('Tab')
    await page.keyboard.press('Escape')
    await page.reload()
    await page.locator('[data-testid="open-settings"]').click()
    assert((await page.locator('#set-max_tokens').inputValue()) === '24', 'max tokens kept')
    assert((await page.locator('#set-system_prompt').inputValue()) === 'You are terse.', 'system prompt kept')
    await page.keyboard.press('Escape')
  })

  await step('regenerates the last reply', async () => {
    await page.locator('[data-testid="thread"] article[data-role="assistant"]').last().waitFor()
    const before = await page.locator('[data-testid="thread"] article').count()
    const response = page.waitForResponse((r) => r.url().includes('/regenerate'))
    await page.locator('[data-testid="regenerate"]').click()
    assert((await response).ok(), 'regenerate accepted')
    const reply = await waitReplyDone()
    assert((await reply.getAttribute('data-status')) === 'complete', 'new reply complete')
    assert((await page.locator('[data-testid="thread"] article').count()) === before, 'the reply was replaced, not added')
  })

  await step('Stop ends a streaming reply and unlocks the composer', async () => {
    await page.locator('[data-testid="open-settings"]').click()
    await page.locator('#set-max_tokens').fill('400')
    await page.locator('#set-max_tokens').press('Tab')
    await page.keyboard.press('Escape')
    await composer().fill('Tell me a long story.')
    await composer().press('Enter')
    assert(await composer().isDisabled(), 'composer locked while sending')
    await page.locator('[data-testid="stop"]').click({ timeout: 10000 }).catch(() => {})
    const reply = await waitReplyDone()
    const status = await reply.getAttribute('data-status')
    assert(status === 'stopped' || status === 'complete', `reply ended (${status})`)
    console.log(`# the streaming reply ended as: ${status}`)
    assert(!(await composer().isDisabled()), 'composer unlocked')
    await page.locator('[data-testid="open-settings"]').click()
    await page.locator('[data-testid="reset-settings"]').click()
    await page.keyboard.press('Escape')
  })

  await step('an XSS payload sent to the real API stays inert (also after reload)', async () => {
    await sendAndWait(XSS)
    for (const pass of ['live', 'reloaded']) {
      assert((await xssFired()) === undefined, `window.__xss stays undefined (${pass})`)
      assert((await page.locator('[data-testid="thread"] img, [data-testid="thread"] script, .markdown svg').count()) === 0, `no img/script (${pass})`)
      const text = await page.locator('[data-testid="thread"] article[data-role="user"]').last().innerText()
      assert(text.includes('onerror'), `the payload is shown as text (${pass})`)
      if (pass === 'live') {
        await page.reload()
        await page.locator('[data-testid="thread"] article[data-role="user"]').last().waitFor()
      }
    }
  })

  await step('a reply that carries HTML/script/javascript: is rendered inert', async () => {
    // The tiny test model writes random text, so this one reply is served by the browser itself:
    // what is under test is the page's markdown + DOMPurify path on a real SSE body.
    const CODE = '\n\n```python\nprint("copied!")\n```\n'
    const frames = [
      ['start', { conversation_id: 'xss-probe', user_message: { id: 'u', role: 'user', content: 'x', status: 'complete' } }],
      ['delta', { content: '## Hi\n\n' + XSS + '\n\n<svg onload="window.__xss=4"></svg>\n\n[ok](https://example.com)\n' + CODE }],
      ['done', { conversation_id: 'xss-probe', message: { id: 'a', role: 'assistant', status: 'complete', model: 'probe',
        content: '## Hi\n\n' + XSS + '\n\n<svg onload="window.__xss=4"></svg>\n\n[ok](https://example.com)\n' + CODE, response_time_ms: 5, usage: { completion_tokens: 3 } } }],
    ]
    await page.route('**/api/chat', (route) => route.fulfill({ status: 200, contentType: 'text/event-stream',
      body: frames.map(([e, d]) => `event: ${e}\ndata: ${JSON.stringify(d)}\n\n`).join('') }))
    await page.locator('[data-testid="new-chat"]').click()
    await composer().fill('probe')
    await composer().press('Enter')
    const reply = await waitReplyDone()
    await page.unroute('**/api/chat')
    await page.waitForTimeout(300)
    assert((await xssFired()) === undefined, 'window.__xss stays undefined')
    assert((await reply.locator('.markdown img, .markdown script, .markdown svg').count()) === 0, 'no img/script/svg element')
    const hrefs = await reply.locator('.markdown a').evaluateAll((as) => as.map((a) => a.getAttribute('href')))
    assert(hrefs.every((h) => h === null || !/^javascript:/i.test(h)), `no javascript: href (${hrefs})`)
    assert(hrefs.includes('https://example.com'), 'a safe link survives')
    assert((await reply.locator('.code-block code .hljs-built_in').first().innerText()) === 'print', 'code is highlighted')
    await reply.locator('.copy-code').click()
    await reply.locator('.copy-code', { hasText: 'Copied' }).waitFor()
    assert((await page.evaluate(() => navigator.clipboard.readText())) === 'print("copied!")\n', 'the copy button copied the code')
    await page.locator('[data-testid="new-chat"]').click()
  })

  await step('a message over the API limit gets its 413 message and stays in the box', async () => {
    const long = 'x'.repeat(20000)
    await composer().fill(long)
    const response = page.waitForResponse((r) => r.url().endsWith('/api/chat'))
    await composer().press('Enter')
    assert((await response).status() === 413, 'the real API answered 413')
    await page.locator('[data-testid="toast-error"]').filter({ hasText: 'characters' }).waitFor()
    assert((await composer().inputValue()) === long, 'the long text is back in the box')
    await composer().fill('')
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
  })

  await step('model server down: the message the API saved stays in the thread and Retry answers it', async () => {
    // What the real API answers when no model server is reachable (docs/api.md): 503 + the saved message.
    const saved = { id: 901, role: 'user', content: 'asked while the worker was down', model: 'x', status: 'error' }
    await page.route('**/api/chat', (route) => route.fulfill({ status: 503, contentType: 'application/json',
      headers: { 'Retry-After': '5' }, body: JSON.stringify({ error: { message: 'model server unavailable', code: 'worker_unavailable' },
        conversation_id: 'down-probe', user_message: saved }) }))
    await page.locator('[data-testid="new-chat"]').click()
    await composer().fill(saved.content)
    await composer().press('Enter')
    await page.locator('[data-testid="toast-error"]').filter({ hasText: 'model server unavailable. Retry in 5 s.' }).waitFor()
    const user = page.locator('[data-testid="thread"] article[data-role="user"]')
    await user.filter({ hasText: saved.content }).waitFor()
    assert((await user.getAttribute('data-status')) === 'error', 'shown as not answered')
    assert((await composer().inputValue()) === '', 'not also put back in the box (it would be sent twice)')
    await page.unroute('**/api/chat')
    const frames = [['start', { conversation_id: 'down-probe', user_message: { ...saved, status: 'complete' } }],
      ['delta', { content: 'Back again.' }],
      ['done', { conversation_id: 'down-probe', message: { id: 902, role: 'assistant', content: 'Back again.', status: 'complete', model: 'x' } }]]
    await page.route('**/api/conversations/down-probe/regenerate', (route) => route.fulfill({ status: 200,
      contentType: 'text/event-stream', body: frames.map(([e, d]) => `event: ${e}\ndata: ${JSON.stringify(d)}\n\n`).join('') }))
    await page.locator('[data-testid="retry"]').click()
    await lastReply().filter({ hasText: 'Back again.' }).locator('[data-testid="message-meta"]').waitFor()
    assert((await user.getAttribute('data-status')) === 'complete', 'the message is answered now')
    await page.unroute('**/api/conversations/down-probe/regenerate')
    await page.locator('[data-testid="new-chat"]').click()
  })

  await step('compare view streams one prompt to two models side by side', async () => {
    await page.locator('[data-testid="compare-link"]').click()
    await page.locator('[data-testid="compare-left"]').waitFor()
    await page.selectOption('#compare-left-model', models[0].id)
    const right = models[1] || models[0]
    await page.selectOption('#compare-right-model', right.id)
    await page.locator('#compare-input').fill('What is the capital of France?')
    await page.locator('#compare-input').press('Enter')
    for (const [side, model] of [['left', models[0]], ['right', right]]) {
      const column = page.locator(`[data-testid="compare-${side}"]`)
      const reply = await waitReplyDone(column)
      assert((await reply.getAttribute('data-status')) === 'complete', `${side} reply complete`)
      assert((await reply.locator('[data-testid="message-meta"]').innerText()).includes(model.id), `${side} shows ${model.id}`)
    }
  })

  await step('deletes a conversation after confirming', async () => {
    await page.goto(`${base}/#/c/${encodeURIComponent(conversationId)}`)
    const item = page.locator(`.conversation[data-id="${conversationId}"]`)
    await item.waitFor()
    await item.hover()
    await item.locator('[data-action="delete"]').click()
    await page.locator('[role="alertdialog"]').waitFor()
    await page.locator('[data-testid="confirm"]').click()
    await item.waitFor({ state: 'detached' })
    await page.reload()
    await page.locator('[data-testid="conversation-list"]').waitFor()
    await page.waitForTimeout(500)
    assert((await page.locator(`.conversation[data-id="${conversationId}"]`).count()) === 0, 'gone after reload')
    assert(!page.url().includes(conversationId), 'left the deleted conversation')
  })

  await step('phone width: the sidebar collapses behind a menu button', async () => {
    await page.setViewportSize({ width: 390, height: 844 })
    assert(!(await page.locator('.sidebar').isVisible()), 'sidebar hidden')
    await page.locator('.menu-btn').click()
    await page.locator('.sidebar.open [data-testid="new-chat"]').waitFor()
    await page.locator('[data-testid="new-chat"]').click()
    await page.waitForFunction(() => !document.querySelector('.sidebar.open'))
  })

  await step('phone width: the drawer takes focus, keeps Tab inside and closes on Escape', async () => {
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

  await step('keyboard: the first Tab reaches the skip link, which focuses the composer', async () => {
    await page.setViewportSize({ width: 1280, height: 800 })
    await page.goto(`${base}/#/`)
    await page.reload() // a hash-only navigation would keep the old focus: start from a fresh document
    // the box is disabled (so cannot take focus) until the models have loaded
    await page.waitForFunction(() => document.querySelector('#composer-input')?.disabled === false)
    await page.keyboard.press('Tab')
    assert(await page.evaluate(() => document.activeElement?.classList.contains('skip-link')), 'skip link focused')
    await page.keyboard.press('Enter')
    await page.waitForFunction(() => document.activeElement?.id === 'composer-input')
  })
  assert((await xssFired()) === undefined, 'no payload ever ran')
  assert(pageErrors.length === 0, `no uncaught errors in the page (${pageErrors.join('; ')})`)
  assert(cspViolations.length === 0, `nothing blocked by the Content-Security-Policy (${cspViolations.join('; ')})`)
  console.log('all browser checks passed')
} catch (err) {
  process.exitCode = 1
} finally {
  await browser.close()
}

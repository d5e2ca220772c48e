// Replies that outlive the page, in Chromium against a running llmchat whose model writes long replies (1500 tokens):
// `node e2e/jobs.mjs http://127.0.0.1:PORT`. A reply is a job of the server, so
//   - leaving the conversation mid-reply does not stop it: the sidebar says "answering…", and opening the
//     conversation again shows the reply still growing, until it ends on its own;
//   - reloading the page mid-reply does not stop it either: the page follows it again and it finishes;
//   - re-attaching (coming back, reloading) never replays the reply from its start: sampled every animation frame,
//     its text on screen never gets shorter while it grows, and it ends as the saved reply;
//   - Stop on a reply the page re-attached to stops it on the server; pressed before the server named the reply,
//     it is sent as soon as it does.
// With LLMCHAT_E2E_SHOTS=<folder> it saves the two new states there (answering-sidebar.png, reattached-reply.png).
import { assert, createRunner, launch, runChecks } from './browser.mjs'
import { helpers } from './helpers.mjs'

const base = (process.argv[2] || '').replace(/\/$/, '')
if (!base) {
  console.error('usage: node e2e/jobs.mjs <url of the app>')
  process.exit(2)
}
const TIMEOUT = Number(process.env.LLMCHAT_E2E_TIMEOUT_MS || 60000)
const SHOTS = process.env.LLMCHAT_E2E_SHOTS || ''

const browser = await launch()
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
const page = await context.newPage()
page.setDefaultTimeout(TIMEOUT)
const pageErrors = []
page.on('pageerror', (err) => pageErrors.push(err.message))
// Every page load samples the last reply's text length each animation frame (window.__replyLengths), from the
// moment a reply is on screen: what a person would see flash if the reply were emptied and replayed from its start.
await page.addInitScript(() => {
  window.__replyLengths = []
  const sample = () => {
    const reply = [...document.querySelectorAll('[data-testid="thread"] article[data-role="assistant"]')].pop()
    if (reply) window.__replyLengths.push(reply.querySelector('.markdown')?.innerText.length || 0)
    requestAnimationFrame(sample)
  }
  requestAnimationFrame(sample)
})
const step = createRunner(page)
const h = helpers(page, base)
const shared = {}

const replyText = () => h.lastReply().locator('.markdown').innerText().catch(() => '')
const savedReply = async (id) => {
  const detail = JSON.parse((await h.api(`/api/conversations/${encodeURIComponent(id)}`)).body)
  return detail.messages[detail.messages.length - 1]
}

/** Send `text` and wait until the reply has some text on screen (its job runs on the server from now on). */
async function startReply(text) {
  await h.composer().fill(text)
  await h.composer().press('Enter')
  await h.replyStarted()
  await page.waitForFunction(() => {
    const reply = [...document.querySelectorAll('[data-testid="thread"] article[data-role="assistant"]')].pop()
    return reply?.dataset.status === 'streaming' && reply.querySelector('.markdown')?.innerText.trim().length > 0
  })
  return { id: h.conversationIdFromUrl(), replyId: await h.lastReply().getAttribute('data-message-id') }
}

/** The reply on screen is still being written and grows while we watch. */
async function growsOnScreen() {
  const before = (await replyText()).length
  await page.waitForFunction((n) => {
    const reply = [...document.querySelectorAll('[data-testid="thread"] article[data-role="assistant"]')].pop()
    return (reply?.querySelector('.markdown')?.innerText.length || 0) > n
  }, before)
}

const startSampling = () => page.evaluate(() => { window.__replyLengths = [] })

/** The sampled lengths since the re-attach: the reply came back with at least `floor` characters, grew and never
 * got shorter (markdown may re-read a growing line, "*a" -> italic "a": a few characters, not a replay). */
async function neverShorter(what, floor) {
  const lengths = await page.evaluate(() => window.__replyLengths)
  assert(lengths.length > 10 && lengths[lengths.length - 1] > lengths[0], `${what}: sampled it growing (${lengths.length} samples)`)
  assert(lengths[0] >= floor, `${what}: the reply came back with ${lengths[0]} characters on screen, not ${floor} or more`)
  let most = 0
  for (const [i, n] of lengths.entries()) {
    assert(n >= most - 3, `${what}: the text got shorter on screen (sample ${i}: ${n} after ${most})`)
    most = Math.max(most, n)
  }
}

async function finishesAsSaved(id) {
  const reply = await h.waitReplyDone()
  const status = await reply.getAttribute('data-status')
  assert(status === 'complete', `the reply finished by itself (${status})`)
  const saved = await savedReply(id)
  assert(saved.status === 'complete', `saved complete, not stopped (${saved.status}, ${saved.finish_reason})`)
  assert((await reply.getAttribute('data-message-id')) === String(saved.id), 'the same reply')
  const meta = await reply.locator('[data-testid="message-meta"]').innerText()
  const tokens = `${saved.usage.completion_tokens.toLocaleString('en-US')} tokens`
  assert(meta.includes(tokens), `the page has the saved reply (${meta})`)
  // letters and digits: markdown turns the model's punctuation and line breaks into markup
  const words = (text) => text.replace(/[^\p{L}\p{N}]+/gu, '')
  const [shown, kept] = [words(await replyText()), words(saved.content)]
  let at = 0
  while (at < shown.length && shown[at] === kept[at]) at += 1
  assert(shown === kept, `the text on screen is the saved reply's (${shown.length} vs ${kept.length} characters, ` +
    `from ${at}: ${JSON.stringify(shown.slice(at, at + 60))} vs ${JSON.stringify(kept.slice(at, at + 60))})`)
  assert(!(await h.composer().isDisabled()), 'the composer is free again')
}

await runChecks(browser, async () => {
  await step('loads the app with a model', async () => {
    await page.goto(base)
    await page.waitForFunction(() => document.querySelectorAll('#model-select option[value]:not([value=""])').length > 0)
    // long replies (seconds): time to leave and come back while they are written
    await h.setSettings({ max_tokens: 1500 })
  })

  await step('leaving a conversation mid-reply does not stop it: the sidebar says "answering…"', async () => {
    const { id } = await startReply('Tell me a long story, please.')
    shared.leftShowing = (await replyText()).length
    await h.newChat()
    const mark = h.entry(id).locator('[data-testid="answering"]')
    await mark.waitFor()
    assert((await mark.innerText()).includes('answering'), 'the entry says answering…')
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/answering-sidebar.png` })
    const saved = await savedReply(id)
    assert(saved.status === 'streaming', `still being written on the server (${saved.status})`)
    shared.left = id
  })

  await step('coming back shows the reply still growing, and it finishes on its own', async () => {
    await startSampling()
    await h.entry(shared.left).locator('.conversation-link').click()
    await h.thread().locator('article[data-role="assistant"][data-status="streaming"]').waitFor()
    await growsOnScreen()
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/reattached-reply.png` })
    await finishesAsSaved(shared.left)
    await neverShorter('coming back', shared.leftShowing - 3)
    await h.entry(shared.left).locator('[data-testid="answering"]').waitFor({ state: 'detached' })
  })

  await step('reloading mid-reply: the page follows the reply again and it finishes', async () => {
    await h.newChat()
    await h.setSettings({ max_tokens: 3000 }) // longer: its text is saved every replies.save_interval_s (2 s)
    const { id } = await startReply('And another long one.')
    // reloaded once some of it is saved: the new page shows that text at once and follows on from it
    for (let tries = 0; (await savedReply(id)).content.trim().length < 20; tries += 1) {
      assert(tries < 100, 'the reply is saved while it is written')
      await page.waitForTimeout(100)
    }
    await page.reload() // the init script samples the new page from its first frame
    await h.thread().locator('article[data-role="assistant"][data-status="streaming"]').waitFor()
    assert(h.conversationIdFromUrl() === id, 'the same conversation is open')
    await growsOnScreen()
    await finishesAsSaved(id)
    await neverShorter('after the reload', 1)
  })

  await step('Stop on a reply the page re-attached to stops it on the server', async () => {
    await h.newChat()
    const { id } = await startReply('One more, to be stopped.')
    await page.reload()
    await h.thread().locator('article[data-role="assistant"][data-status="streaming"]').waitFor()
    await page.locator('[data-testid="stop"]').click()
    const reply = await h.waitReplyDone()
    assert((await reply.getAttribute('data-status')) === 'stopped', `stopped (${await reply.getAttribute('data-status')})`)
    const saved = await savedReply(id)
    assert(saved.status === 'stopped', `saved as stopped (${saved.status})`)
    assert(await reply.getByRole('button', { name: 'Continue' }).isVisible(), 'a stopped reply can be continued')
  })

  await step('Stop pressed before the server named the reply stops it as soon as it does', async () => {
    await h.newChat()
    let release
    const held = new Promise((resolve) => (release = resolve))
    await page.route('**/api/chat', async (route) => {
      await held
      await route.continue()
    })
    await h.composer().fill('Stop this one early.')
    await h.composer().press('Enter')
    await page.locator('[data-testid="stop"]').click()
    const stop = page.waitForRequest((r) => /\/api\/messages\/\d+\/stop$/.test(r.url()))
    release()
    const reply = await h.waitReplyDone()
    assert((await stop).url().endsWith(`/api/messages/${await reply.getAttribute('data-message-id')}/stop`), 'Stop named the reply')
    assert((await reply.getAttribute('data-status')) === 'stopped', `stopped (${await reply.getAttribute('data-status')})`)
    assert(!(await h.composer().isDisabled()), 'composer unlocked')
    await page.unroute('**/api/chat')
  })

  assert(pageErrors.length === 0, `no uncaught errors in the page (${pageErrors.join('; ')})`)
})

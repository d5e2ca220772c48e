// The message tree: regenerate keeps every version behind a "< 2 / 2 >" switcher, editing a sent message makes a
// new branch (the old one stays), the branch on screen survives a reload and is what export writes; Continue
// extends a reply cut off at max_tokens.
import { assert } from '../browser.mjs'

export async function tree({ page, step, h, shared }) {
  const { thread, lastReply } = h
  const userMessages = () => thread().locator('article[data-role="user"]')
  const replyText = async (reply) => (await reply.locator('.markdown').count() ? reply.locator('.markdown').innerText() : '')

  await step('Regenerate adds a version: "2 / 2", Previous/Next version switch between both replies', async () => {
    await h.newChat()
    const { reply } = await h.sendAndWait('Tree question one')
    const firstId = await reply.getAttribute('data-message-id')
    const firstText = await replyText(reply)
    shared.treeId = h.conversationIdFromUrl()
    const response = page.waitForResponse((r) => r.url().includes('/regenerate'))
    await lastReply().locator('[data-testid="regenerate"]').click()
    assert((await response).ok(), 'regenerate accepted')
    const second = await h.waitReplyDone()
    await page.waitForFunction(() => !document.querySelector('article[data-status="streaming"]'))
    assert((await thread().locator('article').count()) === 2, 'one reply on screen, not two')
    const secondId = await second.getAttribute('data-message-id')
    assert(secondId !== firstId, 'the new version is a new message')
    assert((await second.locator('[data-testid="version-label"]').innerText()) === '2 / 2', 'switcher shows 2 / 2')
    await second.getByRole('button', { name: 'Previous version' }).click()
    await page.waitForFunction((id) => document.querySelector(`article[data-message-id="${id}"]`), firstId)
    const back = lastReply()
    assert((await back.locator('[data-testid="version-label"]').innerText()) === '1 / 2', 'switcher shows 1 / 2')
    assert((await replyText(back)) === firstText, 'the first reply is back, word for word')
    assert(await back.getByRole('button', { name: 'Previous version' }).isDisabled(), 'no version before the first')
    await back.getByRole('button', { name: 'Next version' }).click()
    await page.waitForFunction((id) => document.querySelector(`article[data-message-id="${id}"]`), secondId)
    shared.treeReplyIds = [firstId, secondId]
  })

  await step('Edit makes a new branch from a sent message; the old branch stays one click away', async () => {
    const user = userMessages().first()
    await user.getByRole('button', { name: 'Edit' }).click()
    const box = page.locator('[data-testid="message-editor"] textarea')
    await box.fill('Tree question edited')
    const response = page.waitForResponse((r) => r.url().endsWith('/api/chat'))
    await box.press('Enter')
    const sent = JSON.parse((await response).request().postData())
    assert(sent.parent_id === null, `the first message's edit branches from the root (parent_id ${sent.parent_id})`)
    await h.waitReplyDone()
    await page.waitForFunction(() => !document.querySelector('article[data-status="streaming"]'))
    assert((await userMessages().count()) === 1, 'one user message on screen')
    const edited = userMessages().first()
    assert((await edited.locator('.user-text').innerText()) === 'Tree question edited', 'the edited text is shown')
    assert((await edited.locator('[data-testid="version-label"]').innerText()) === '2 / 2', 'the prompt has two versions')
    assert((await lastReply().locator('[data-testid="versions"]').count()) === 0, 'the new branch has one reply')
    await edited.getByRole('button', { name: 'Previous version' }).click()
    await userMessages().first().locator('.user-text', { hasText: 'Tree question one' }).waitFor()
    assert((await lastReply().locator('[data-testid="version-label"]').innerText()) === '2 / 2', 'the old branch kept both replies')
  })

  await step('the branch on screen survives a reload; the export holds every version with that branch marked', async () => {
    await page.reload()
    await userMessages().first().locator('.user-text', { hasText: 'Tree question one' }).waitFor()
    assert((await userMessages().first().locator('[data-testid="version-label"]').innerText()) === '1 / 2', 'still version 1 of the prompt')
    const md = (await h.api(`/api/conversations/${shared.treeId}/export?format=markdown`)).body
    const [onScreen, others] = md.split('\n# Other versions\n')
    assert(onScreen.includes('Tree question one') && !onScreen.includes('Tree question edited'), 'the branch on screen comes first')
    assert(others && others.includes('Tree question edited'), 'the other branch is in the export too, under "Other versions"')
    const json = JSON.parse((await h.api(`/api/conversations/${shared.treeId}/export?format=json`)).body)
    const detail = JSON.parse((await h.api(`/api/conversations/${shared.treeId}`)).body)
    assert(json.messages.length === detail.message_count && json.export.messages === detail.message_count, `every message (${json.messages.length} of ${detail.message_count})`)
    const marked = json.messages.filter((m) => m.on_screen).map((m) => m.id)
    assert(JSON.stringify(marked) === JSON.stringify(detail.messages.map((m) => m.id)), 'on_screen marks exactly the branch shown')
  })

  await step('editing a later message branches from the reply before it', async () => {
    await h.sendAndWait('Tree follow-up')
    const follow = userMessages().last()
    const parent = await thread().locator('article[data-role="assistant"]').first().getAttribute('data-message-id')
    await follow.getByRole('button', { name: 'Edit' }).click()
    await page.locator('[data-testid="message-editor"] textarea').fill('Tree follow-up, edited')
    const response = page.waitForResponse((r) => r.url().endsWith('/api/chat'))
    await page.locator('[data-testid="save-edit"]').click()
    assert(JSON.parse((await response).request().postData()).parent_id === Number(parent), 'parent_id is the reply before it')
    await h.waitReplyDone()
    await page.waitForFunction(() => !document.querySelector('article[data-status="streaming"]'))
    assert((await userMessages().count()) === 2, 'the earlier exchange stays above')
    assert((await userMessages().last().locator('[data-testid="version-label"]').innerText()) === '2 / 2', 'two versions of the follow-up')
  })

  await step('a reply cut off at max_tokens says "cut off", and Continue extends the same reply', async () => {
    await h.setSettings({ max_tokens: 4 })
    await h.newChat()
    let reply = (await h.sendAndWait('Write a long paragraph about rivers.')).reply
    // The random test model may end early (EOS) on its own: ask again until a reply hits the limit.
    for (let i = 0; i < 4 && (await reply.getAttribute('data-finish')) !== 'length'; i += 1) {
      await reply.locator('[data-testid="regenerate"]').click()
      reply = await h.waitReplyDone()
      await page.waitForFunction(() => !document.querySelector('article[data-status="streaming"]'))
      reply = lastReply()
    }
    assert((await reply.getAttribute('data-finish')) === 'length', 'finish_reason length')
    assert((await reply.locator('[data-testid="cut-off"]').innerText()) === 'cut off', 'marked cut off')
    await reply.locator('[data-testid="cut-off-note"]').waitFor()
    const id = await reply.getAttribute('data-message-id')
    const before = await h.api(`/api/conversations/${h.conversationIdFromUrl()}`).then((r) => JSON.parse(r.body))
    const saved = before.messages.find((m) => String(m.id) === id)
    const articles = await thread().locator('article').count()
    const response = page.waitForResponse((r) => r.url().includes(`/api/messages/${id}/continue`))
    await reply.getByRole('button', { name: 'Continue' }).click()
    assert((await response).ok(), 'continue accepted')
    await page.waitForFunction((mid) => {
      const a = document.querySelector(`article[data-message-id="${mid}"]`)
      return a && a.dataset.status !== 'streaming' && a.querySelector('[data-testid="message-meta"]')
    }, id)
    assert((await thread().locator('article').count()) === articles, 'no new message: the same reply grew')
    const after = await h.api(`/api/conversations/${h.conversationIdFromUrl()}`).then((r) => JSON.parse(r.body))
    const grown = after.messages.find((m) => String(m.id) === id)
    assert(grown.content.startsWith(saved.content) && grown.content.length > saved.content.length,
      `the text was extended: ${JSON.stringify(saved.content)} -> ${JSON.stringify(grown.content)}`)
    assert(grown.usage.completion_tokens > saved.usage.completion_tokens, 'the token count grew')
  })

  await step('a reply of one token says "1 token"', async () => {
    await h.setSettings({ max_tokens: 1 })
    const { reply } = await h.sendAndWait('One word, please.')
    const meta = await reply.locator('[data-testid="message-meta"]').innerText()
    assert(/\b1 token\b/.test(meta) && !/\b1 tokens\b/.test(meta), `singular count: ${meta}`)
    await h.resetSettings()
  })
}

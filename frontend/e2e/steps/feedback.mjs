// Feedback on replies: the leaderboard's empty state (before anything is rated), thumbs (aria-pressed, by mouse and
// keyboard, changeable, shown again after a reload), and a better answer (saved, shown after a reload, edited, in
// the export).
import { assert } from '../browser.mjs'

export async function feedback({ page, step, h, shared }) {
  const saved = () => page.waitForResponse((r) => /\/api\/messages\/\d+\/feedback$/.test(r.url()) && r.request().method() === 'PUT')
  const pressed = async (reply, name) => (await reply.getByRole('button', { name, exact: true }).getAttribute('aria-pressed')) === 'true'
  const messageJson = async (id, messageId) => {
    const detail = JSON.parse((await h.api(`/api/conversations/${encodeURIComponent(id)}`)).body)
    return detail.messages.find((m) => m.id === messageId)
  }

  await step('before any vote or rating the leaderboard says how to get votes', async () => {
    const board = JSON.parse((await h.api('/api/leaderboard')).body)
    assert(board.models.length === 0 && board.votes === 0, `nothing rated yet (${JSON.stringify(board)})`)
    await page.goto(`${h.base}/#/leaderboard`)
    const empty = page.locator('[data-testid="leaderboard-empty"]')
    await empty.waitFor()
    assert((await empty.innerText()).includes('No votes yet'), 'the empty state says so')
    assert((await empty.locator('a[href="#/compare"]').count()) === 1, 'and links to the compare view')
    assert((await page.locator('table.leaderboard').count()) === 0, 'no empty table')
    assert((await page.locator('[data-testid="unrated"]').innerText()).includes(shared.models[0].id), 'offered models are listed as not rated yet')
  })

  await step('thumbs: "Good reply" is pressed and saved, still pressed after a reload; "Bad reply" replaces it; again clears it', async () => {
    await page.goto(`${h.base}/#/`)
    await h.sendAndWait('Tell me one fact about the sea.')
    const id = h.conversationIdFromUrl()
    const reply = h.lastReply()
    const messageId = Number(await reply.getAttribute('data-message-id'))
    shared.ratedChat = { id, messageId }
    assert(!(await pressed(reply, 'Good reply')) && !(await pressed(reply, 'Bad reply')), 'nothing pressed at first')
    let answer = saved()
    await reply.getByRole('button', { name: 'Good reply', exact: true }).click()
    assert((await answer).status() === 200, 'PUT feedback answered 200')
    assert(await pressed(reply, 'Good reply'), 'Good reply pressed')
    assert((await messageJson(id, messageId)).feedback.rating === 'up', 'the API has the rating')

    await page.reload()
    await h.waitReplyDone()
    assert(await pressed(h.lastReply(), 'Good reply'), 'still pressed after a reload')
    // by keyboard: focus the other button and press Space
    answer = saved()
    await h.lastReply().getByRole('button', { name: 'Bad reply', exact: true }).focus()
    await page.keyboard.press('Space')
    await answer
    assert(await pressed(h.lastReply(), 'Bad reply') && !(await pressed(h.lastReply(), 'Good reply')), 'Bad reply replaced it')
    answer = saved()
    await page.keyboard.press('Enter')
    await answer
    assert(!(await pressed(h.lastReply(), 'Bad reply')), 'pressing it again takes the rating back')
    const after = (await messageJson(id, messageId)).feedback
    assert(!after || after.rating === null, `no rating saved (${JSON.stringify(after)})`)
    answer = saved()
    await h.lastReply().getByRole('button', { name: 'Good reply', exact: true }).click() // leaves a thumbs up for the leaderboard
    await answer
  })

  await step('a better answer: written from the reply, saved, shown after a reload, edited, and in the export', async () => {
    const { id, messageId } = shared.ratedChat
    const reply = h.lastReply()
    await reply.locator('[data-testid="write-correction"]').click()
    const box = reply.locator('[data-testid="correction-editor"] textarea')
    assert(await box.evaluate((el) => el === document.activeElement), 'the editor takes focus')
    const text = (await messageJson(id, messageId)).content.replace(/\r\n?/g, '\n') // a textarea's value has \n line ends
    assert((await box.inputValue()) === text, `it starts from the reply's text (${JSON.stringify(await box.inputValue())} vs ${JSON.stringify(text)})`)
    await box.fill('The sea covers about 71% of the Earth.')
    let answer = saved()
    await box.press('Control+Enter')
    await answer
    await reply.locator('[data-testid="correction"]').waitFor()
    assert((await reply.locator('[data-testid="correction"]').innerText()).includes('71% of the Earth'), 'shown under the reply')
    assert(await reply.locator('[data-testid="edit-correction"]').evaluate((el) => el === document.activeElement), 'focus on Edit')

    await page.reload()
    await h.waitReplyDone()
    const again = h.lastReply().locator('[data-testid="correction"]')
    await again.waitFor()
    assert((await again.innerText()).includes('71% of the Earth'), 'shown again after a reload')
    assert(await pressed(h.lastReply(), 'Good reply'), 'with its rating')

    await h.lastReply().locator('[data-testid="edit-correction"]').click()
    await h.lastReply().locator('[data-testid="correction-editor"] textarea').fill('Oceans cover about 71% of the surface of the Earth.')
    answer = saved()
    await h.lastReply().locator('[data-testid="save-correction"]').click()
    await answer
    await page.waitForFunction(() => document.querySelector('[data-testid="correction"]')?.textContent.includes('Oceans cover'))
    const message = await messageJson(id, messageId)
    assert(message.feedback.correction === 'Oceans cover about 71% of the surface of the Earth.', 'the API has the edited answer')
    assert(message.feedback.rating === 'up', 'editing the answer kept the rating')
    for (const format of ['json', 'markdown']) {
      const exported = await h.api(`/api/conversations/${encodeURIComponent(id)}/export?format=${format}`)
      assert(exported.body.includes('Oceans cover about 71% of the surface of the Earth.'), `the ${format} export has the better answer`)
    }
    const json = JSON.parse((await h.api(`/api/conversations/${encodeURIComponent(id)}/export?format=json`)).body)
    assert(json.messages.find((m) => m.id === messageId).feedback.rating === 'up', 'and the rating')
  })
}

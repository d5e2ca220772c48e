// Compare votes: a named vote (the buttons wait until both replies are complete; one vote per pair, voting again
// replaces it) and a blind vote (two random models, names hidden as Model A / Model B until the vote, then
// revealed with the result, also after a reload).
import { assert } from '../browser.mjs'

export async function votes({ page, step, h, shared }) {
  const voted = () => page.waitForResponse((r) => r.url().endsWith('/api/votes') && r.request().method() === 'POST')
  const column = (side) => page.locator(`[data-testid="compare-${side}"]`)
  const ids = () => shared.models.map((m) => m.id)
  const voteButton = (winner) => page.locator(`[data-testid="vote-${winner}"]`)
  // the web app renders the vote after its answer arrives (a tick later): read the button once it has settled
  const pressed = async (winner, value) => {
    await page.waitForFunction(([w, v]) => document.querySelector(`[data-testid="vote-${w}"]`)?.getAttribute('aria-pressed') === v,
      [winner, value], { timeout: 5000 }).catch(() => {})
    return (await voteButton(winner).getAttribute('aria-pressed')) === value
  }

  async function sendCompare(text) {
    // watch the vote buttons while the replies stream: disabled while waiting, never enabled early
    await page.evaluate(() => {
      window.__voteWaited = false
      window.__voteEarly = false
      const look = () => {
        const streaming = document.querySelector('.compare-view article[data-status="streaming"]')
        const left = document.querySelector('[data-testid="vote-left"]')
        if (streaming && left?.disabled) window.__voteWaited = true
        if (streaming && left && !left.disabled) window.__voteEarly = true
      }
      window.__voteObserver?.disconnect()
      window.__voteObserver = new MutationObserver(look)
      window.__voteObserver.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true })
    })
    await page.locator('#compare-input').fill(text)
    await page.locator('#compare-input').press('Enter')
    for (const side of ['left', 'right']) await h.waitReplyDone(column(side))
    await page.waitForFunction(() => !document.querySelector('.compare-view article[data-status="streaming"]'))
    await page.waitForFunction(() => document.querySelector('[data-testid="vote-left"]')?.disabled === false)
    const seen = await page.evaluate(() => {
      window.__voteObserver.disconnect()
      return { waited: window.__voteWaited, early: window.__voteEarly }
    })
    assert(seen.waited, 'the vote buttons were there, disabled, while the replies were written')
    assert(!seen.early, 'and never enabled before both replies were complete')
  }

  await step('a named vote: open once both replies are complete; voting again on the pair replaces the vote', async () => {
    await page.goto(`${h.base}/#/compare`)
    await page.locator('[data-testid="mode-chosen"]').check()
    await page.locator('#compare-left-model').waitFor()
    await sendCompare('Name a colour of the sky.')
    shared.namedCompareId = h.conversationIdFromUrl()
    assert((await page.locator('[data-testid="vote-status"]').innerText()) === '', 'no vote yet, nothing to say')
    let answer = voted()
    await voteButton('left').click()
    assert((await answer).status() === 201, 'the first vote is created (201)')
    assert(await pressed('left', 'true'), 'A is better pressed')
    assert((await page.locator('[data-testid="vote-status"]').innerText()).startsWith('Your vote: A is better.'), 'the vote is confirmed')
    answer = voted()
    await voteButton('tie').click()
    const second = await answer
    assert(second.status() === 200, `voting again replaces the vote (200, got ${second.status()})`)
    assert(await pressed('tie', 'true'), 'Tie pressed')
    assert(await pressed('left', 'false'), 'A is better no longer')
    const board = JSON.parse((await h.api('/api/leaderboard')).body)
    assert(board.votes === 1, `one vote counted, not two (${board.votes})`)
    await page.reload()
    await column('left').locator('article[data-role="assistant"]').first().waitFor()
    await page.waitForFunction(() => document.querySelector('[data-testid="vote-tie"]')?.getAttribute('aria-pressed') === 'true')
  })

  await step('a blind vote: two random models shown as Model A / Model B, names hidden until the vote, then revealed', async () => {
    await page.locator('[data-testid="compare-clear"]').click()
    await page.waitForFunction(() => location.hash === '#/compare')
    await page.getByLabel('Two random models (blind)').check()
    for (const side of ['left', 'right']) {
      assert((await column(side).locator('[data-testid="hidden-model"]').innerText()).includes('drawn at random'), `${side}: drawn at random`)
      assert((await column(side).locator('select').count()) === 0, `${side}: no model picker`)
    }
    const created = page.waitForResponse((r) => r.url().endsWith('/api/conversations') && r.request().method() === 'POST')
    const chats = []
    const record = (r) => r.url().endsWith('/api/chat') && chats.push(JSON.parse(r.postData()))
    page.on('request', record)
    await sendCompare('Which is larger, 7 or 9?')
    page.off('request', record)
    assert(JSON.parse((await created).request().postData()).blind === true, 'the session was asked for blind')
    assert(chats.length === 2 && chats.every((b) => !('model' in b)), 'no column named a model')
    const id = h.conversationIdFromUrl()
    shared.blindCompareId = id
    const view = await page.locator('.compare-view').innerText()
    for (const model of ids()) assert(!view.includes(model), `the page does not name ${model} before the vote`)
    for (const side of ['left', 'right']) assert((await column(side).locator('[data-testid="hidden-model"]').innerText()).includes('hidden'), `${side} hidden`)
    assert((await h.entry(id).locator('.conversation-meta').innerText()).includes('hidden'), 'the history entry hides them too')
    const detail = JSON.parse((await h.api(`/api/conversations/${id}`)).body)
    assert(detail.blind === true && detail.columns.every((c) => c.model === null), 'the API hides them as well')
    assert((await page.locator('[data-testid="vote-status"]').innerText()).includes('hidden until you vote'), 'the vote bar says why')

    const answer = voted()
    await voteButton('right').focus()
    await page.keyboard.press('Enter')
    const vote = (await (await answer).json()).vote
    const [a, b] = [vote.left.model, vote.right.model]
    assert(a && b && a !== b && ids().includes(a) && ids().includes(b), `two different offered models were drawn (${a}, ${b})`)
    const status = page.locator('[data-testid="vote-status"]')
    await page.waitForFunction(() => document.querySelector('[data-testid="vote-status"]')?.textContent.includes('Model A is'))
    assert((await status.innerText()).includes(`Your vote: B is better. Model A is ${a}, Model B is ${b}.`), `revealed with the result: ${await status.innerText()}`)
    await page.waitForFunction(() => !document.querySelector('[data-testid="hidden-model"]'))
    assert((await column('left').locator('.compare-fixed strong').innerText()) === a, 'column A names its model now')
    assert((await column('right').locator('.compare-fixed strong').innerText()) === b, 'column B names its model now')
    await page.waitForFunction((m) => document.querySelector('[data-testid="compare-right"] article[data-role="assistant"] [data-testid="message-meta"]')
      ?.textContent.includes(m), b)
    // the history entry names the models too, without a reload
    await page.waitForFunction((m) => document.querySelector(`.conversation[data-id="${m.id}"] .conversation-meta`)?.textContent.includes(m.a),
      { id, a })
    // the pressed choice keeps its colours under the pointer (no white on white)
    await voteButton('right').hover()
    const contrastOf = (el) => {
      const luminance = (colour) => {
        const [r, g, b] = colour.match(/[\d.]+/g).slice(0, 3).map((v) => {
          const c = Number(v) / 255
          return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
        })
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
      }
      const [text, back] = [luminance(getComputedStyle(el).color), luminance(getComputedStyle(el).backgroundColor)]
      return (Math.max(text, back) + 0.05) / (Math.min(text, back) + 0.05)
    }
    // the colours ease in over a short transition: wait for them to settle readable (a failure names the last value)
    let contrast = await voteButton('right').evaluate(contrastOf)
    for (let tries = 0; contrast < 3 && tries < 30; tries++) {
      await page.waitForTimeout(100)
      contrast = await voteButton('right').evaluate(contrastOf)
    }
    assert(contrast >= 3, `the pressed button's text stays readable under the pointer (contrast ${contrast.toFixed(2)})`)
    await page.reload()
    await column('left').locator('article[data-role="assistant"]').first().waitFor() // the session is loaded
    assert((await column('left').locator('.compare-fixed strong').innerText()) === a, 'still revealed after a reload')
    assert((await column('right').locator('.compare-fixed strong').innerText()) === b, 'both')
    await page.waitForFunction((m) => document.querySelector(`.conversation[data-id="${m.id}"] .conversation-meta`)?.textContent.includes(m.a),
      { id, a })
    shared.revealed = { a, b }
  })
}

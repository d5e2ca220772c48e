// The feedback screens for docs/screenshots (called by screenshots.mjs after the chat and compare shots):
// a rated reply with a better answer, compare votes (named and blind) that fill the leaderboard, the blind session
// before and after its vote, the leaderboard and a model card — light and dark, wide and phone.
//
// Votes need a judge: these prompts have one right answer (the fine-tuning demo's tasks). A reply is right when it
// gives it: a number answer is the last number in the reply that the question does not contain ("3 * 60 = 180 ...
// so 411 minutes" is wrong), any other answer is stated as a whole word. The right one wins, both right is a tie,
// neither is "both bad", and the same rule gives each reply its thumb — so the leaderboard shows how the models
// really did on these prompts.

export const VOTE_PROMPTS = [
  ['What is 17 + 25?', '42'],
  ['Sort these numbers from smallest to largest: 35, 23, 47, 10', '10, 23, 35, 47'],
  ['What is the capital of France?', 'Paris'],
  ['Make this word all caps: castle', 'CASTLE'],
  ["What is the opposite of 'day'?", 'night'],
  ['What is 9 times 7?', '63'],
  ['Which number is the largest? 12, 45, 7, 30', '45'],
  ['What is 50 - 18?', '32'],
  ['Reverse the word: stone', 'enots'],
  ['How many minutes are in 3 hours?', '180'],
]

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const NUMBER = /-?\d+(?:\.\d+)?/g

/** Whether `reply` gives `answer` to `prompt` (see the rule above). */
export function states(reply, answer, prompt = '') {
  if (/^-?\d+(\.\d+)?$/.test(answer)) {
    const asked = new Set(prompt.match(NUMBER) || [])
    const given = (reply || '').replace(/(\d),(\d{3})/g, '$1$2').match(NUMBER) || []
    return given.filter((n) => !asked.has(n)).pop() === answer
  }
  return new RegExp(`(^|[^\\w])${escape(answer)}($|[^\\w])`).test(reply || '')
}

export function judge(leftText, rightText, answer, prompt = '') {
  const [l, r] = [states(leftText, answer, prompt), states(rightText, answer, prompt)]
  return l && r ? 'tie' : l ? 'left' : r ? 'right' : 'both_bad'
}

export async function feedbackShots({ page, shot, waitIdle, models, first, second }) {
  const column = (side) => page.locator(`[data-testid="compare-${side}"]`)
  const lastText = (side) => column(side).locator('article[data-role="assistant"] .markdown').last().innerText().catch(() => '')

  async function rateLast(scope, good) {
    const reply = scope.locator('article[data-role="assistant"]').last()
    const saved = page.waitForResponse((r) => /\/feedback$/.test(r.url()))
    await reply.getByRole('button', { name: good ? 'Good reply' : 'Bad reply', exact: true }).click()
    await saved
  }

  async function compareOnce(prompt, answer, { blind = false, pair = null, beforeVote = null } = {}) {
    await page.goto(`${page.url().split('#')[0]}#/compare`)
    await page.locator(blind ? '[data-testid="mode-blind"]' : '[data-testid="mode-chosen"]').check()
    if (pair) {
      await page.selectOption('#compare-left-model', pair[0])
      await page.selectOption('#compare-right-model', pair[1])
    }
    await page.locator('#compare-input').fill(prompt)
    await page.locator('#compare-input').press('Enter')
    for (const side of ['left', 'right']) await waitIdle(column(side))
    await page.waitForFunction(() => document.querySelector('[data-testid="vote-left"]')?.disabled === false)
    const [left, right] = [await lastText('left'), await lastText('right')]
    for (const [side, text] of [['left', left], ['right', right]]) await rateLast(column(side), states(text, answer, prompt))
    if (beforeVote) await beforeVote()
    const winner = judge(left, right, answer, prompt)
    const voted = page.waitForResponse((r) => r.url().endsWith('/api/votes'))
    await page.locator(`[data-testid="vote-${winner}"]`).click()
    await voted
    await page.locator('[data-testid="vote-status"]', { hasText: 'Your vote' }).waitFor()
    console.log(`vote: ${prompt} -> ${winner}`)
  }

  // A rated reply with the better answer the person wrote (on the main chat, its latest reply).
  const reply = page.locator('[data-testid="thread"] article[data-role="assistant"]').last()
  await reply.getByRole('button', { name: 'Good reply', exact: true }).click()
  await reply.locator('[data-testid="write-correction"]').click()
  await reply.locator('[data-testid="correction-editor"] textarea').fill(
    '```python\ndef is_palindrome(word: str) -> bool:\n    cleaned = word.lower()\n    return cleaned == cleaned[::-1]\n```\n\n'
    + 'It lowercases the word first, so "Level" counts too, then compares it with itself reversed.')
  await reply.locator('[data-testid="save-correction"]').scrollIntoViewIfNeeded()
  await shot('correction-editor-light', 'light')
  await reply.locator('[data-testid="save-correction"]').click()
  await reply.locator('[data-testid="correction"]').waitFor()
  await page.locator('#composer-input').blur()
  await reply.locator('[data-testid="correction"]').scrollIntoViewIfNeeded()
  await shot('feedback-light', 'light')
  await shot('feedback-dark', 'dark')

  // Named votes over every pair of the models, then blind ones (the server draws the pair).
  const ids = models.map((m) => m.id)
  const pairs = ids.flatMap((a, i) => ids.slice(i + 1).map((b) => [a, b]))
  const named = VOTE_PROMPTS.slice(0, 7)
  for (const [i, [prompt, answer]] of named.entries()) await compareOnce(prompt, answer, { pair: pairs[i % pairs.length] })
  const blind = VOTE_PROMPTS.slice(7)
  for (const [i, [prompt, answer]] of blind.entries()) {
    const last = i === blind.length - 1
    await compareOnce(prompt, answer, { blind: true, beforeVote: last ? async () => {
      await page.locator('#compare-input').blur()
      await shot('blind-light', 'light')
      await page.setViewportSize({ width: 390, height: 800 })
      await shot('phone-blind-dark', 'dark')
      await page.setViewportSize({ width: 1280, height: 800 })
    } : null })
    if (last) {
      await page.locator('#compare-input').blur()
      await shot('blind-revealed-dark', 'dark')
      await page.setViewportSize({ width: 390, height: 800 })
      await shot('phone-blind-revealed-light', 'light')
      await page.setViewportSize({ width: 1280, height: 800 })
    }
  }

  await page.locator('[data-testid="leaderboard-link"]').click()
  await page.locator('table.leaderboard tbody tr').first().waitFor()
  await shot('leaderboard-light', 'light')
  await shot('leaderboard-dark', 'dark')
  await page.setViewportSize({ width: 390, height: 800 })
  await shot('phone-leaderboard-light', 'light')
  await page.setViewportSize({ width: 1280, height: 800 })

  const run = models.find((m) => m.origin === 'runs') || second || first
  await page.locator(`[data-testid="card-${run.id}"]`).click()
  await page.locator('[data-testid="card-facts"]').waitFor()
  await shot('model-card-light', 'light')
  const evaluation = page.locator('[data-testid="model-card"] [data-testid="evaluation"]')
  if (await evaluation.count()) await evaluation.evaluate((el) => el.scrollIntoView({ block: 'start' }))
  await shot('model-card-dark', 'dark') // the last evaluation, with the seen / unseen phrasings
  await page.locator('[data-testid="model-card"]').evaluate((el) => el.scrollTo(0, 0))
  await page.setViewportSize({ width: 390, height: 800 })
  await shot('phone-model-card-dark', 'dark')
  await page.setViewportSize({ width: 1280, height: 800 })
  await page.keyboard.press('Escape')
}

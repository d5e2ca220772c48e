// Retakes docs/screenshots/*.png from a running llmchat (real API + worker):
//   node e2e/screenshots.mjs http://127.0.0.1:PORT [out dir, default ../docs/screenshots]
// It creates a few conversations (so the sidebar has history), then shoots: chat with a version switcher, a
// cut-off reply with Continue, search results, settings with a corrected value, the history menu, the shortcuts
// overlay, compare (wide and phone), light and dark; then the feedback screens (screenshotsFeedback.mjs): a rated
// reply with a better answer, votes that fill the leaderboard, a blind session before and after its vote, the
// leaderboard and a model card. Env: SHOT_MODEL / SHOT_MODEL_B pick the models, SHOT_MAX_TOKENS /
// SHOT_TEMPERATURE the settings.
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { launch } from './browser.mjs'
import { feedbackShots } from './screenshotsFeedback.mjs'

const base = (process.argv[2] || '').replace(/\/$/, '')
if (!base) {
  console.error('usage: node e2e/screenshots.mjs <url of the app> [out dir]')
  process.exit(2)
}
const here = path.dirname(fileURLToPath(import.meta.url))
const outDir = path.resolve(process.argv[3] || path.join(here, '..', '..', 'docs', 'screenshots'))
const TIMEOUT = Number(process.env.LLMCHAT_E2E_TIMEOUT_MS || 240000)
const MAX_TOKENS = process.env.SHOT_MAX_TOKENS || '200'
const TEMPERATURE = process.env.SHOT_TEMPERATURE || '0.3'
const HISTORY = ['What is the capital of France?', 'Give me three tips for staying focused.']
const MAIN_PROMPT = process.env.SHOT_PROMPT ||
  'Write a short Python function that checks whether a word is a palindrome. Put the code in a markdown code block, then explain it in two sentences.'
const CUT_PROMPT = 'Describe how a river forms, from the first rain to the sea, in a long paragraph.'
// A fine-tune of the demo (llmchat finetune) learned short arithmetic/sorting tasks: compare on one of those.
const comparePrompt = (second) => process.env.SHOT_COMPARE_PROMPT || (['lora', 'alpaca'].includes(second.kind)
  ? 'Sort these numbers from smallest to largest: 35, 23, 47, 10'
  : 'Explain what a large language model is in two sentences.')

const browser = await launch()
const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' })
const page = await context.newPage()
page.setDefaultTimeout(TIMEOUT)

async function shot(name, scheme) {
  await page.emulateMedia({ colorScheme: scheme })
  await page.waitForTimeout(300)
  const file = path.join(outDir, `${name}.png`)
  await page.screenshot({ path: file })
  console.log(`wrote ${file}`)
}

async function waitIdle(scope = page) {
  await scope.locator('article[data-role="assistant"] [data-testid="message-meta"]').last().waitFor()
  await page.waitForFunction(() => !document.querySelector('article[data-status="streaming"]'))
}

async function chat(prompt) {
  await page.locator('[data-testid="new-chat"]').click()
  await page.locator('#composer-input').fill(prompt)
  await page.locator('#composer-input').press('Enter')
  await waitIdle()
}

const lastReply = () => page.locator('[data-testid="thread"] article[data-role="assistant"]').last()
async function richReply() {
  const reply = lastReply()
  return (await reply.locator('.code-block').count()) > 0 && (await reply.locator('.markdown > p').count()) > 0
}

async function pickModels() {
  const models = await page.evaluate(() => fetch('/api/models').then((r) => r.json()).then((d) => d.models))
  const byId = (id) => models.find((m) => m.id === id)
  const first = byId(process.env.SHOT_MODEL) || models.find((m) => m.kind === 'chat') || models[0]
  const second = byId(process.env.SHOT_MODEL_B) || models.filter((m) => m.id !== first.id && ['lora', 'alpaca'].includes(m.kind)).pop() ||
    models.find((m) => m.id !== first.id) || first
  return { models, first, second }
}

async function settings(values, { keepOpen = false } = {}) {
  await page.locator('[data-testid="open-settings"]').click()
  await page.locator('[data-testid="settings"]').waitFor()
  for (const [selector, value] of values) {
    await page.locator(selector).fill(value)
    await page.locator(selector).press('Tab')
  }
  if (!keepOpen) await page.keyboard.press('Escape')
}
const tune = async (modelId, maxTokens = MAX_TOKENS) => {
  await page.selectOption('#model-select', modelId)
  await settings([['#set-max_tokens', maxTokens], ['[aria-label="Temperature value"]', TEMPERATURE]])
}

await mkdir(outDir, { recursive: true })
try {
  await page.goto(base)
  await page.waitForFunction(() => document.querySelectorAll('#model-select option[value]:not([value=""])').length > 0)
  const { models, first, second } = await pickModels()
  await tune(second.id)
  await tune(first.id)
  for (const prompt of HISTORY) await chat(prompt)

  // A cut-off reply: a long answer asked for with a small token limit.
  await tune(first.id, '48')
  await chat(CUT_PROMPT)
  for (let i = 0; i < 3 && (await lastReply().getAttribute('data-finish')) !== 'length'; i += 1) {
    await lastReply().locator('[data-testid="regenerate"]').click()
    await waitIdle()
  }
  await page.locator('#composer-input').blur()
  await shot('cutoff-light', 'light')
  await tune(first.id)

  // The main chat: regenerate (at most 3 times) until the reply shows a code block and some prose, so the
  // reply has versions and the switcher shows.
  await chat(MAIN_PROMPT)
  for (let attempt = 0; attempt < 3 && (attempt === 0 || !(await richReply())); attempt++) {
    await lastReply().locator('[data-testid="regenerate"]').click()
    await waitIdle()
  }
  await page.locator('#composer-input').blur()
  await shot('chat-light', 'light')
  await shot('chat-dark', 'dark')
  const mainChat = page.url()

  const older = page.locator('.conversation').nth(1)
  await older.hover()
  await older.locator('[data-action="menu"]').click()
  await shot('history-menu-light', 'light')
  await page.keyboard.press('Escape')

  await page.locator('#conversation-search').fill('capital')
  await page.locator('[data-testid="search-hit"]').first().waitFor()
  await shot('search-light', 'light')
  await shot('search-dark', 'dark')
  await page.locator('#conversation-search').fill('')

  await settings([['#set-max_tokens', '99999']], { keepOpen: true })
  await shot('settings-light', 'light')
  await shot('settings-dark', 'dark')
  await page.locator('[data-testid="reset-settings"]').click()
  await page.keyboard.press('Escape')
  await tune(first.id)

  await page.locator('[data-testid="open-shortcuts"]').click()
  await page.locator('[data-testid="shortcuts"]').waitFor()
  await shot('shortcuts-dark', 'dark')
  await page.keyboard.press('Escape')

  await page.locator('[data-testid="compare-link"]').click()
  await page.selectOption('#compare-left-model', first.id)
  await page.selectOption('#compare-right-model', second.id)
  await page.locator('#compare-input').fill(comparePrompt(second))
  await page.locator('#compare-input').press('Enter')
  for (const side of ['left', 'right']) await waitIdle(page.locator(`[data-testid="compare-${side}"]`))
  await page.locator('#compare-input').blur()
  await shot('compare-light', 'light')
  await shot('compare-dark', 'dark')
  await page.setViewportSize({ width: 390, height: 800 })
  await shot('phone-compare-light', 'light')
  await page.locator('[data-testid="compare-tab-right"]').click()
  await shot('phone-compare-dark', 'dark')

  await page.setViewportSize({ width: 1280, height: 800 })
  await page.locator('.conversation[data-kind="chat"] .conversation-link').first().click()
  await waitIdle()
  await page.setViewportSize({ width: 390, height: 800 })
  await shot('phone-chat-light', 'light')
  await page.locator('.menu-btn').click()
  await page.locator('.sidebar.open').waitFor()
  await page.waitForTimeout(300)
  await shot('phone-sidebar-dark', 'dark')
  await page.keyboard.press('Escape')

  await page.setViewportSize({ width: 1280, height: 800 })
  await page.goto(mainChat)
  await waitIdle()
  await feedbackShots({ page, shot, waitIdle, models, first, second })
} finally {
  await browser.close()
}

// End-to-end in Chromium against a running llmchat (real API + worker): `node e2e/chat.mjs http://127.0.0.1:PORT`.
// The steps live in e2e/steps/, in the order they run (later groups use what earlier ones made):
//   basics   models, streaming, title, reload, rename, export, settings, Stop, XSS, errors, delete, phone drawer
//   tree     versions (regenerate), branches (edit), the branch on screen after reload and in export, Continue
//   states   empty reply, Retry clears its error, length limit, corrected settings, bad links, loading (the list, a
//            model the worker loads on its first reply), model switch
//   search   full-text search over messages with highlighted snippets
//   compare  default pair, one entry per session, reopening it, tabs at phone width
//   feedback the empty leaderboard, thumbs (and after a reload), a better answer (saved, edited, exported)
//   votes    a named vote (after both replies; again replaces it), a blind vote (names hidden, then revealed)
//   leaderboard ratings with interval bars, sorting, model cards (from a row, from the picker, a run's card)
//   keyboard the "?" overlay, shortcuts, roving tabindex in the history
//   review   what the Chromium review found: action row in view, menus flip up, cursor inline, skip link, touch hints
//   access   the composer a bounded number of Tabs away in a long chat (action rows as toolbars), the picker at 390 px
//   a11y     axe-core on every main screen, light and dark, wide and phone
import { assert, createRunner, launch, runChecks } from './browser.mjs'
import { helpers } from './helpers.mjs'
import { basics } from './steps/basics.mjs'
import { tree } from './steps/tree.mjs'
import { states } from './steps/states.mjs'
import { search } from './steps/search.mjs'
import { compare } from './steps/compare.mjs'
import { feedback } from './steps/feedback.mjs'
import { votes } from './steps/votes.mjs'
import { leaderboard } from './steps/leaderboard.mjs'
import { keyboard } from './steps/keyboard.mjs'
import { a11y } from './steps/a11y.mjs'
import { review } from './steps/review.mjs'
import { access } from './steps/access.mjs'

const base = (process.argv[2] || '').replace(/\/$/, '')
if (!base) {
  console.error('usage: node e2e/chat.mjs <url of the app> [group,group…]')
  process.exit(2)
}
const GROUPS = { basics, tree, states, search, compare, feedback, votes, leaderboard, keyboard, review, access, a11y }
const only = process.argv[3] ? process.argv[3].split(',') : Object.keys(GROUPS)
const TIMEOUT = Number(process.env.LLMCHAT_E2E_TIMEOUT_MS || 60000)

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
const shared = {}
const h = helpers(page, base)

await runChecks(browser, async () => {
  if (!only.includes('basics')) {
    await page.goto(base)
    shared.models = await page.evaluate(() => fetch('/api/models').then((r) => r.json()).then((d) => d.models))
  }
  for (const name of only) await GROUPS[name]({ page, step, h, shared })
  assert(!(await page.evaluate(() => window.__xss)), 'no payload ever ran')
  assert(pageErrors.length === 0, `no uncaught errors in the page (${pageErrors.join('; ')})`)
  assert(cspViolations.length === 0, `nothing blocked by the Content-Security-Policy (${cspViolations.join('; ')})`)
})

// Sign-in, API keys, usage and the Admin page in Chromium, against a running llmchat with identity: accounts and
// open sign-up on a fresh database: `node e2e/teams.mjs http://127.0.0.1:PORT [screenshot dir]`. With a
// screenshot dir it also writes teams-*.png (light and dark) there.
import path from 'node:path'
import { assert, createRunner, launch, openPage, scriptArgs } from './browser.mjs'
import { axeViolations, describeViolations } from './a11y.mjs'

const { base, shotDir } = scriptArgs('teams.mjs')
const PASSWORD = 'a long enough password'
const VIEWPORT = { width: 1280, height: 800 }

const browser = await launch()
const { page, pageErrors } = await openPage(browser, VIEWPORT)
const step = createRunner(page)

async function shot(name) {
  if (!shotDir) return
  for (const dismiss of await page.locator('.toast [aria-label="Dismiss"]').all()) await dismiss.click()
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme })
    await page.waitForTimeout(300)
    await page.screenshot({ path: path.join(shotDir, `${name}-${scheme}.png`) })
  }
  await page.emulateMedia({ colorScheme: 'light' })
}

async function noAxeViolations(where) {
  const violations = await axeViolations(page)
  assert(violations.length === 0, `${where}: axe\n  ${describeViolations(violations)}`)
}

async function signUp(target, name) {
  await target.goto(`${base}/`)
  await target.locator('[data-testid="signin-form"]').waitFor()
  await target.locator('[data-testid="signin-switch"]').click()
  await target.locator('#signin-name').fill(name)
  await target.locator('#signin-password').fill(PASSWORD)
  await target.locator('[data-testid="signin-submit"]').click()
  await target.locator('#composer-input').waitFor()
}

const fetchWithKey = (key) => page.evaluate(async (k) => (await fetch('/v1/models', { headers: { Authorization: `Bearer ${k}` } })).status, key)

try {
  await step('nobody signed in: the sign-in page, and the API answers 401', async () => {
    await page.goto(`${base}/`)
    await page.locator('[data-testid="signin-form"]').waitFor()
    const status = await page.evaluate(async () => (await fetch('/api/conversations')).status)
    assert(status === 401, `conversations without a sign-in: ${status}`)
    await noAxeViolations('sign-in page')
    await shot('teams-signin')
  })

  await step('the first account made from the web app is an admin; a chat counts as its usage', async () => {
    await signUp(page, 'alice')
    assert(await page.locator('[data-testid="admin-link"]').isVisible(), 'the Admin link for the first account')
    await page.locator('#composer-input').fill('Hello there')
    await page.locator('#composer-input').press('Enter')
    await page.locator('article[data-role="assistant"] [data-testid="message-meta"]').last().waitFor()
    await page.locator('[data-testid="account-link"]').click()
    await page.locator('[data-testid="usage-chart"]').first().waitFor()
    const bars = await page.locator('[data-testid="usage-chart"]').first().locator('rect.bar-completion').count()
    assert(bars === 1, `one day of usage drawn: ${bars}`)
    assert((await page.locator('[data-testid="account-who"]').innerText()).includes('alice'), 'says who is signed in')
  })

  let key = ''
  await step('a key is shown once, works on /v1, and stops working when revoked', async () => {
    await page.locator('#key-name').fill('laptop')
    await page.locator('[data-testid="create-key"]').click()
    key = (await page.locator('[data-testid="new-key-text"]').innerText()).trim()
    assert(key.startsWith('llmc-'), `the key: ${key}`)
    assert((await fetchWithKey(key)) === 200, 'the key opens /v1/models')
    const row = page.locator('[data-testid="key-laptop"]')
    assert((await row.innerText()).includes(key.slice(0, 12)) && !(await row.innerText()).includes(key), 'the list shows only the prefix')
    await noAxeViolations('account page')
    await shot('teams-account')
    await page.locator('[data-testid="revoke-laptop"]').click()
    await page.locator('[data-testid="confirm"]').click()
    await page.locator('[data-testid="key-laptop"] .badge').waitFor()
    assert((await fetchWithKey(key)) === 401, 'a revoked key is refused')
    assert(!(await page.locator('[data-testid="new-key"]').isVisible()), 'the shown key is gone once revoked')
  })

  await step('a second account has its own, empty history', async () => {
    const { page: other } = await openPage(browser, VIEWPORT)
    await signUp(other, 'bob')
    assert(!(await other.locator('[data-testid="admin-link"]').isVisible()), 'no Admin link for a user')
    const titles = await other.locator('.conversation').count()
    assert(titles === 0, `bob sees none of alice's conversations: ${titles}`)
    await other.context().close()
  })

  await step('the Admin page: usage per person as a chart, the accounts, make admin; never chats', async () => {
    await page.locator('[data-testid="admin-link"]').click()
    await page.locator('[data-testid="user-bob"]').waitFor()
    await page.locator('[data-testid="admin-usage"] [data-testid="usage-chart"]').waitFor()
    const people = await page.locator('[data-testid="admin-usage"] rect.bar-completion').count()
    assert(people >= 1, `a bar per person with usage: ${people}`)
    assert(!(await page.locator('main').innerText()).includes('Hello there'), 'no chat text on the Admin page')
    await noAxeViolations('admin page')
    await shot('teams-admin')
    await page.locator('[data-testid="make-admin-bob"]').click()
    await page.waitForFunction(() => document.querySelector('[data-testid="user-bob"]')?.innerText.includes('admin'))
  })

  await step('the Admin page unloads a model from its server and loads it again', async () => {
    const model = JSON.parse(await page.evaluate(() => fetch('/api/models').then((r) => r.text()))).models.find((m) => m.loaded)
    assert(model, 'a loaded model to unload')
    const state = page.locator(`[data-testid="residency-${model.id}"]`)
    await page.locator(`[data-testid="unload-${model.id}"]`).click()
    await page.waitForFunction((id) => document.querySelector(`[data-testid="residency-${id}"]`)?.textContent === 'not loaded', model.id)
    await page.locator(`[data-testid="load-${model.id}"]`).click()
    await page.waitForFunction((id) => document.querySelector(`[data-testid="residency-${id}"]`)?.textContent === 'loaded', model.id, { timeout: 120000 })
    assert((await state.innerText()) === 'loaded', 'loaded again')
  })

  await step('sign out: back to the sign-in page; a wrong password says so', async () => {
    await page.locator('[data-testid="account-link"]').click()
    await page.locator('[data-testid="sign-out"]').click()
    await page.locator('[data-testid="signin-form"]').waitFor()
    await page.locator('#signin-name').fill('alice')
    await page.locator('#signin-password').fill('not the password')
    await page.locator('[data-testid="signin-submit"]').click()
    const error = await page.locator('[data-testid="signin-error"]').innerText()
    assert(/wrong name or password/.test(error), `the error: ${error}`)
    await page.locator('#signin-password').fill(PASSWORD)
    await page.locator('[data-testid="signin-submit"]').click()
    await page.locator('[data-testid="account-who"]').waitFor() // back where she was: the Account page
  })

  assert(pageErrors.length === 0, `no page errors: ${pageErrors.join('; ')}`)
  console.log('all teams browser checks passed')
} finally {
  await browser.close()
}

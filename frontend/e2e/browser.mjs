// Shared by the browser scripts: launch Debian's Chromium (never a downloaded one) and run named steps.
import { chromium } from 'playwright-core'

export const CHROMIUM = process.env.LLMCHAT_CHROMIUM || '/usr/bin/chromium'
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage']

export function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 60000 })
}

export function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`)
}

/** Run steps in order; print TAP-like lines; on the first failure save a screenshot and exit 1. */
export function createRunner(page, { failShot = process.env.LLMCHAT_E2E_FAILSHOT } = {}) {
  let count = 0
  return async function step(name, fn) {
    count += 1
    const started = Date.now()
    try {
      await fn()
      console.log(`ok ${count} - ${name} (${Date.now() - started} ms)`)
    } catch (err) {
      console.log(`not ok ${count} - ${name}\n  ${String(err && err.stack || err).split('\n').join('\n  ')}`)
      if (failShot) await page.screenshot({ path: failShot }).catch(() => {})
      throw err
    }
  }
}

/** `node e2e/<script> URL [screenshot dir]`: the app's URL (no trailing slash) and the folder ('' for none). */
export function scriptArgs(script) {
  const base = (process.argv[2] || '').replace(/\/$/, '')
  if (!base) {
    console.error(`usage: node e2e/${script} <url of the app> [screenshot dir]`)
    process.exit(2)
  }
  return { base, shotDir: process.argv[3] || '' }
}

/** A page in a new context of `browser`, with the suite's default timeout; its page errors are collected (and
 * printed) in `pageErrors`. */
export async function openPage(browser, viewport) {
  const page = await (await browser.newContext({ viewport })).newPage()
  page.setDefaultTimeout(Number(process.env.LLMCHAT_E2E_TIMEOUT_MS || 60000))
  const pageErrors = []
  page.on('pageerror', (err) => {
    pageErrors.push(String(err))
    console.log(`# page error: ${err.message}`)
  })
  return { page, pageErrors }
}

/** Run a script's checks: "all browser checks passed", or the failure and exit code 1; the browser is closed. */
export async function runChecks(browser, checks) {
  try {
    await checks()
    console.log('all browser checks passed')
  } catch (err) {
    console.log(`# ${err.message}`)
    process.exitCode = 1
  } finally {
    await browser.close()
  }
}

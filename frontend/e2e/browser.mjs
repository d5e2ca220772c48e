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

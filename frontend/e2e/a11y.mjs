// axe-core in the page under test (Debian's Chromium, no network): inject axe.min.js from node_modules and
// report the violations that matter. The suite fails on any "serious" or "critical" one.
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
let source = null

/** Run axe on the page (or `include`, a CSS selector); returns the serious/critical violations. */
export async function axeViolations(page, { include = null } = {}) {
  source ??= await readFile(require.resolve('axe-core/axe.min.js'), 'utf8')
  // evaluated through the DevTools protocol, not added as an inline <script>: the app's Content-Security-Policy
  // (script-src 'self') rightly blocks inline scripts, and the suite fails on any CSP violation
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(source)
  const result = await page.evaluate(async (context) => {
    const options = { resultTypes: ['violations'], runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }
    const report = await window.axe.run(context ? { include: [context] } : document, options)
    return report.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')} — ${n.failureSummary.split('\n').slice(1).join(' ').trim()}`) }))
  }, include)
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical')
}

/** A readable list of violations, for an assertion message. */
export function describeViolations(violations) {
  return violations.map((v) => `${v.impact} ${v.id}: ${v.help}\n    ${v.nodes.join('\n    ')}`).join('\n  ')
}

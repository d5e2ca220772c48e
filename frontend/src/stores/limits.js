// What the API accepts (GET /api/limits): the longest message and the range of each setting. The app
// shows these before sending instead of letting the API refuse; until the API answers (or if an older API
// has no /limits) the fallback below — the API's defaults — applies.
import { reactive } from 'vue'

export const FALLBACK_LIMITS = {
  maxMessageChars: 8000,
  params: {
    temperature: { min: 0, max: 2, step: 0.05 },
    top_p: { min: 0, exclusiveMin: true, max: 1, step: 0.05 },
    max_tokens: { min: 1, max: 4096, step: 1 },
    memory_window: { min: 0, max: 50, step: 1 },
    system_prompt: { maxLength: 8000 },
  },
}
const INTEGER_PARAMS = new Set(['max_tokens', 'memory_window'])

/** The API's JSON-schema style limits ({minimum, exclusiveMinimum, maximum, maxLength}) as the app's ranges. */
export function limitsFromApi(body) {
  const params = {}
  for (const [key, fallback] of Object.entries(FALLBACK_LIMITS.params)) {
    const given = (body && body.params && body.params[key]) || {}
    const range = { ...fallback }
    if (Number.isFinite(given.minimum)) Object.assign(range, { min: given.minimum, exclusiveMin: false })
    if (Number.isFinite(given.exclusiveMinimum)) Object.assign(range, { min: given.exclusiveMinimum, exclusiveMin: true })
    if (Number.isFinite(given.maximum)) range.max = given.maximum
    if (Number.isFinite(given.maxLength)) range.maxLength = given.maxLength
    params[key] = range
  }
  const chars = body && Number.isInteger(body.max_message_chars) && body.max_message_chars > 0
    ? body.max_message_chars : FALLBACK_LIMITS.maxMessageChars
  return { maxMessageChars: chars, params }
}

/** "1–4096", "more than 0, up to 1". */
export function describeRange(range) {
  if (range.maxLength != null) return `up to ${range.maxLength.toLocaleString('en-US')} characters`
  return range.exclusiveMin ? `more than ${range.min}, up to ${range.max}` : `${range.min}–${range.max}`
}

/**
 * Bring a typed value into its range. Returns { value, note }: `value` null when it is not a number at all,
 * `note` (a sentence for the person who typed it) whenever what is kept differs from what was typed.
 */
export function correctParam(key, raw, range) {
  if (key === 'system_prompt') {
    const text = String(raw ?? '')
    if (range.maxLength == null || text.length <= range.maxLength) return { value: text, note: '' }
    return { value: text.slice(0, range.maxLength), note: `Cut to ${range.maxLength.toLocaleString('en-US')} characters, the most allowed.` }
  }
  const typed = String(raw ?? '').trim()
  const number = typed === '' ? Number.NaN : Number(typed)
  if (!Number.isFinite(number)) return { value: null, note: `“${typed}” is not a number; the setting was not changed (allowed ${describeRange(range)}).` }
  let value = INTEGER_PARAMS.has(key) ? Math.round(number) : number
  let why = value !== number ? 'is not a whole number' : ''
  if (value > range.max) {
    value = range.max
    why = 'is above the maximum'
  } else if (range.exclusiveMin ? value <= range.min : value < range.min) {
    value = range.exclusiveMin ? Math.min(range.max, range.min + range.step) : range.min
    why = 'is below the minimum'
  }
  if (value === number) return { value, note: '' }
  return { value, note: `${typed} ${why}: set to ${value} (allowed ${describeRange(range)}).` }
}

export function createLimits({ api }) {
  const state = reactive({ ...structuredClone(FALLBACK_LIMITS), fromServer: false })

  async function load() {
    try {
      Object.assign(state, limitsFromApi(await api.limits()), { fromServer: true })
    } catch {
      // an API without /limits: the fallback stays, and the API still refuses what is out of range
    }
  }

  return { state, load, range: (key) => state.params[key] }
}

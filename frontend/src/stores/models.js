// The models the API offers (GET /api/models), with whether a model server has each in memory now (`loaded`,
// `loading`; null when its server does not say): llmchat's worker loads a model on its first request.
import { reactive } from 'vue'
import { toApiError } from '../api/errors.js'
import { WINDOW_TIMERS } from '../lib/timers.js'

const REFRESH_AFTER_MS = 5000 // a quiet refresh (after a reply, on opening the picker) asks at most this often
// while no model can be had (model server down or starting), the list is asked again after these waits (then the last)
export const RETRY_DELAYS_MS = [2000, 3000, 5000, 10000]

export function createModels({ api, clock = Date.now, timers = WINDOW_TIMERS }) {
  // retryIn: seconds until the next automatic try while no model is available (null: none planned)
  const state = reactive({ items: [], loading: false, loaded: false, error: null, retryIn: null })
  let lastAsked = 0
  let retries = 0
  let retryTimer = null
  let onAvailable = () => {}

  /**
   * Load the list, and while it cannot be had (an error, or no model yet) keep asking by itself with growing waits:
   * a page opened while the model server was down recovers when it comes back, without a reload.
   * `available(items)` runs once models are there (again).
   */
  async function watch(available = () => {}) {
    onAvailable = available
    timers.clearTimeout(retryTimer)
    retryTimer = null
    try {
      await load()
    } catch {
      // said in state.error; the next try is planned below
    }
    if (state.items.length) {
      retries = 0
      state.retryIn = null
      onAvailable(state.items)
      return
    }
    const delay = RETRY_DELAYS_MS[Math.min(retries, RETRY_DELAYS_MS.length - 1)]
    retries += 1
    state.retryIn = Math.round(delay / 1000)
    retryTimer = timers.setTimeout(() => watch(onAvailable), delay)
  }

  async function load() {
    state.loading = true
    state.error = null
    lastAsked = clock()
    try {
      state.items = await api.models()
      state.loaded = true
    } catch (err) {
      state.error = toApiError(err).message
      throw err
    } finally {
      state.loading = false
    }
  }

  /** Ask again which models are loaded, without showing "Loading…" or an error (the list stays as it was);
   *  unless `force`, at most once in REFRESH_AFTER_MS. */
  async function refresh({ force = false } = {}) {
    if (state.loading || (!force && clock() - lastAsked < REFRESH_AFTER_MS)) return
    lastAsked = clock()
    try {
      state.items = await api.models()
    } catch {
      // the list on screen stays; the next refresh asks again
    }
  }

  const byId = (id) => state.items.find((m) => m.id === id) || null
  /** Whether a reply from this model waits for its load first: true only when its server says it is not loaded. */
  const needsLoad = (id) => byId(id)?.loaded === false
  return { state, load, watch, refresh, byId, needsLoad }
}

/** The picker's hint for a model the server has not loaded: "loading…", "not loaded", or '' (loaded or unknown). */
export function loadHint(model) {
  if (!model || model.loaded !== false) return ''
  return model.loading ? 'loading…' : 'not loaded'
}

const FINE_TUNED = new Set(['lora', 'alpaca'])

/**
 * The newest fine-tuned model: of kind lora/alpaca, from a fine-tuning run when the API says where a model
 * comes from (`origin: "runs"`), the most recent by `created` when it says when; else the last one listed.
 */
export function newestRun(models) {
  const tuned = models.filter((m) => FINE_TUNED.has(m.kind))
  const runs = tuned.filter((m) => m.origin === 'runs')
  const pool = runs.length ? runs : tuned
  if (!pool.length) return null
  const when = (m) => (Number.isFinite(Date.parse(m.created)) ? Date.parse(m.created) : Number(m.created) || 0)
  return pool.reduce((best, m) => (when(m) >= when(best) ? m : best))
}

/** Compare opens with the chat model against the newest fine-tuned run (else the second model). */
export function defaultComparePair(models) {
  if (!models.length) return ['', '']
  const left = models.find((m) => m.kind === 'chat') || models[0]
  const run = newestRun(models)
  const right = (run && run.id !== left.id ? run : null) || models.find((m) => m.id !== left.id) || left
  return [left.id, right.id]
}

/** "chat · chat prompt · 2k ctx": what a person needs to tell models apart. */
export function describeModel(model, { kind = true } = {}) {
  if (!model) return ''
  const parts = [kind && model.kind, model.prompt_style && `${model.prompt_style} prompt`]
  if (model.context_length) parts.push(`${formatContext(model.context_length)} ctx`)
  return parts.filter(Boolean).join(' · ')
}

function formatContext(n) {
  return n >= 1024 ? `${Math.round(n / 1024)}k` : String(n)
}

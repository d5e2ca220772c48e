// The chosen model(s), generation settings per model and the theme; all kept in localStorage.
// Settings start from the selected model's default_params; only what the user changed is stored.
import { reactive, watch } from 'vue'
import { readJson, safeStorage, writeJson } from '../lib/storage.js'
import { FALLBACK_LIMITS, correctParam } from './limits.js'
import { defaultComparePair } from './models.js'

export const SETTINGS_KEY = 'llmchat.settings.v1'
export const PARAM_KEYS = ['temperature', 'top_p', 'max_tokens', 'memory_window', 'system_prompt']
export const FALLBACK_PARAMS = { temperature: 0.7, top_p: 0.95, max_tokens: 256, memory_window: 6, system_prompt: '' }

/** The model's own defaults, with fallbacks for anything a third-party server did not send. */
export function modelDefaults(model) {
  const given = (model && model.default_params) || {}
  const out = {}
  for (const key of PARAM_KEYS) out[key] = given[key] ?? FALLBACK_PARAMS[key]
  return out
}

/**
 * @param storage localStorage or a stand-in
 * @param rangeOf (key) => the allowed range of a setting (the limits store's `range`)
 */
export function createSettingsStore(storage = safeStorage(), rangeOf = (key) => FALLBACK_LIMITS.params[key]) {
  const saved = readJson(storage, SETTINGS_KEY, {})
  const compare = saved.compare && typeof saved.compare === 'object' ? saved.compare : {}
  const state = reactive({
    model: typeof saved.model === 'string' ? saved.model : '',
    // `chosen`: the person picked this pair themselves; otherwise it follows the default (chat model + newest run).
    // `blind`: new compare sessions get two random models, named only after the vote.
    compare: { left: compare.left || '', right: compare.right || '', chosen: compare.chosen === true, blind: compare.blind === true },
    overrides: saved.overrides && typeof saved.overrides === 'object' ? saved.overrides : {},
    theme: ['light', 'dark'].includes(saved.theme) ? saved.theme : 'auto',
  })

  watch(state, () => writeJson(storage, SETTINGS_KEY, state), { deep: true, flush: 'sync' })

  function paramsFor(model) {
    if (!model) return { ...FALLBACK_PARAMS }
    return { ...modelDefaults(model), ...(state.overrides[model.id] || {}) }
  }

  /** Set one setting; out-of-range values are corrected. Returns { value, note } (note: what was corrected). */
  function setParam(model, key, raw) {
    if (!model || !PARAM_KEYS.includes(key)) return { value: null, note: '' }
    const { value, note } = correctParam(key, raw, rangeOf(key))
    if (value === null) return { value, note }
    const current = { ...(state.overrides[model.id] || {}) }
    if (value === modelDefaults(model)[key]) delete current[key]
    else current[key] = value
    state.overrides = { ...state.overrides, [model.id]: current }
    return { value, note }
  }

  function resetParams(model) {
    if (!model) return
    const next = { ...state.overrides }
    delete next[model.id]
    state.overrides = next
  }

  function isCustomised(model) {
    return !!model && Object.keys(state.overrides[model.id] || {}).length > 0
  }

  /** Keep the saved choices if the server still has them; otherwise the first model / the default compare pair. */
  function ensureModel(models) {
    const ids = models.map((m) => m.id)
    if (!ids.includes(state.model)) state.model = ids[0] || ''
    const keep = state.compare.chosen && ids.includes(state.compare.left) && ids.includes(state.compare.right)
    if (!keep) {
      const [left, right] = defaultComparePair(models)
      Object.assign(state.compare, { left, right, chosen: false })
    }
  }

  function chooseCompareModel(side, id) {
    Object.assign(state.compare, { [side]: id, chosen: true })
  }

  function setCompareBlind(blind) {
    state.compare.blind = blind === true
  }

  return {
    state,
    paramsFor,
    setParam,
    resetParams,
    isCustomised,
    ensureModel,
    chooseCompareModel,
    setCompareBlind,
    selectModel: (id) => (state.model = id),
    setTheme: (theme) => (state.theme = theme),
  }
}

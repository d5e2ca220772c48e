// The chosen model(s), generation settings per model and the theme; all kept in localStorage.
// Settings start from the selected model's default_params; only what the user changed is stored.
import { reactive, watch } from 'vue'
import { readJson, safeStorage, writeJson } from '../lib/storage.js'

export const SETTINGS_KEY = 'llmchat.settings.v1'
export const PARAM_KEYS = ['temperature', 'top_p', 'max_tokens', 'memory_window', 'system_prompt']
export const FALLBACK_PARAMS = { temperature: 0.7, top_p: 0.95, max_tokens: 256, memory_window: 6, system_prompt: '' }

export const PARAM_LIMITS = {
  temperature: { min: 0, max: 2, step: 0.05 },
  top_p: { min: 0.05, max: 1, step: 0.05 },
  max_tokens: { min: 1, max: 4096, step: 1 },
  memory_window: { min: 0, max: 50, step: 1 },
}

/** The model's own defaults, with fallbacks for anything a third-party server did not send. */
export function modelDefaults(model) {
  const given = (model && model.default_params) || {}
  const out = {}
  for (const key of PARAM_KEYS) out[key] = given[key] ?? FALLBACK_PARAMS[key]
  return out
}

function clamp(key, value) {
  if (key === 'system_prompt') return String(value ?? '')
  const limits = PARAM_LIMITS[key]
  let number = Number(value)
  if (!Number.isFinite(number)) return null
  if (key === 'max_tokens' || key === 'memory_window') number = Math.round(number)
  return Math.min(limits.max, Math.max(limits.min, number))
}

export function createSettingsStore(storage = safeStorage()) {
  const saved = readJson(storage, SETTINGS_KEY, {})
  const state = reactive({
    model: typeof saved.model === 'string' ? saved.model : '',
    compare: { left: saved.compare?.left || '', right: saved.compare?.right || '' },
    overrides: saved.overrides && typeof saved.overrides === 'object' ? saved.overrides : {},
    theme: ['light', 'dark'].includes(saved.theme) ? saved.theme : 'auto',
  })

  watch(state, () => writeJson(storage, SETTINGS_KEY, state), { deep: true, flush: 'sync' })

  function paramsFor(model) {
    if (!model) return { ...FALLBACK_PARAMS }
    return { ...modelDefaults(model), ...(state.overrides[model.id] || {}) }
  }

  function setParam(model, key, value) {
    if (!model || !PARAM_KEYS.includes(key)) return
    const clean = clamp(key, value)
    if (clean === null) return
    const current = { ...(state.overrides[model.id] || {}) }
    if (clean === modelDefaults(model)[key]) delete current[key]
    else current[key] = clean
    state.overrides = { ...state.overrides, [model.id]: current }
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

  /** Keep the saved choice if the server still has it, otherwise take the first model. */
  function ensureModel(models) {
    const ids = models.map((m) => m.id)
    if (!ids.includes(state.model)) state.model = ids[0] || ''
    if (!ids.includes(state.compare.left)) state.compare.left = ids[0] || ''
    if (!ids.includes(state.compare.right)) state.compare.right = ids[1] || ids[0] || ''
  }

  return {
    state,
    paramsFor,
    setParam,
    resetParams,
    isCustomised,
    ensureModel,
    selectModel: (id) => (state.model = id),
    setTheme: (theme) => (state.theme = theme),
  }
}

// The models the API offers (GET /api/models).
import { reactive } from 'vue'
import { toApiError } from '../api/errors.js'

export function createModels({ api }) {
  const state = reactive({ items: [], loading: false, error: null })

  async function load() {
    state.loading = true
    state.error = null
    try {
      state.items = await api.models()
    } catch (err) {
      state.error = toApiError(err).message
      throw err
    } finally {
      state.loading = false
    }
  }

  return { state, load, byId: (id) => state.items.find((m) => m.id === id) || null }
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

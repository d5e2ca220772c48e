// Model cards (GET /api/models/{id}/card): what a model is — kind, base model, prompt style, engine — and for a
// fine-tuning run its recipe, loss curve and last evaluation. One card is open at a time (a dialog); cards are
// read once per page load.
import { reactive } from 'vue'
import { toApiError } from '../api/errors.js'

export function createModelCards({ api }) {
  const state = reactive({ openId: null, cards: {}, errors: {}, loading: {} })

  async function load(id, { force = false } = {}) {
    if (!id || (!force && (state.cards[id] || state.loading[id]))) return state.cards[id] || null
    state.loading[id] = true
    delete state.errors[id]
    try {
      state.cards[id] = await api.modelCard(id)
      return state.cards[id]
    } catch (err) {
      state.errors[id] = toApiError(err).message
      return null
    } finally {
      delete state.loading[id]
    }
  }

  function open(id) {
    state.openId = id
    load(id)
  }

  return { state, load, open, close: () => (state.openId = null) }
}

// Search over the text of this client's messages (GET /api/search): the newest query wins, older answers
// that arrive late are dropped, and nothing is asked before the person pauses typing.
import { reactive } from 'vue'
import { toApiError } from '../api/errors.js'

export function createSearch({ api, delayMs = 250 }) {
  const state = reactive({ query: '', results: [], loading: false, error: null, searched: '' })
  let timer = null
  let latest = 0

  async function run(query) {
    const ticket = ++latest
    state.loading = true
    state.error = null
    try {
      const results = await api.search(query)
      if (ticket !== latest) return
      state.results = results
      state.searched = query
    } catch (err) {
      if (ticket !== latest) return
      state.results = []
      state.error = toApiError(err).message
    } finally {
      if (ticket === latest) state.loading = false
    }
  }

  /** Called on every keystroke. */
  function setQuery(text) {
    state.query = text
    clearTimeout(timer)
    const query = text.trim()
    if (!query) {
      latest += 1
      Object.assign(state, { results: [], loading: false, error: null, searched: '' })
      return
    }
    state.loading = true
    timer = setTimeout(() => run(query), delayMs)
  }

  return { state, setQuery, clear: () => setQuery('') }
}

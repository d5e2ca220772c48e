// The sidebar's list of conversations (newest first, as the API sends them).
import { reactive } from 'vue'

// While a conversation has a reply being written ("answering…", perhaps one the page left), the list is read
// again every ANSWERING_POLL_MS, so the mark goes when the reply is done.
export const ANSWERING_POLL_MS = 3000

export function createConversations({ api }) {
  const state = reactive({ items: [], loading: false, loaded: false })
  let latest = 0
  let pollTimer = null

  /** Reload the list; an answer that arrives after a newer request's is dropped (it would be stale). */
  async function load() {
    const ticket = ++latest
    state.loading = true
    try {
      const items = await api.conversations()
      if (ticket !== latest) return
      state.items = items
      state.loaded = true
      clearTimeout(pollTimer)
      if (items.some((c) => c.answering)) pollTimer = setTimeout(() => load().catch(() => {}), ANSWERING_POLL_MS)
    } finally {
      if (ticket === latest) state.loading = false
    }
  }

  async function rename(id, title) {
    const updated = await api.rename(id, title)
    setTitle(id, (updated && updated.title) || title)
  }

  /** A title the API wrote (after the first exchange) or a rename: shown without reloading the list. */
  function setTitle(id, title) {
    const item = state.items.find((c) => c.id === id)
    if (item && title) item.title = title
  }

  async function remove(id) {
    await api.remove(id)
    state.items = state.items.filter((c) => c.id !== id)
  }

  return { state, load, rename, setTitle, remove, find: (id) => state.items.find((c) => c.id === id) }
}

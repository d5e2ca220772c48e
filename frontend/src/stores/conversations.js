// The sidebar's list of conversations (newest first, as the API sends them).
import { reactive } from 'vue'

export function createConversations({ api }) {
  const state = reactive({ items: [], loading: false, loaded: false })

  async function load() {
    state.loading = true
    try {
      state.items = await api.conversations()
      state.loaded = true
    } finally {
      state.loading = false
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

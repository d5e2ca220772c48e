// The sidebar's list of conversations (newest first, as the API sends them).
import { reactive } from 'vue'
import { WINDOW_TIMERS } from '../lib/timers.js'

// A model-written title (titles.source: model) comes after the reply, once the model server is idle: while the
// list has one pending (`title_pending`), it is read again after these waits, then left until the next reply.
export const TITLE_WAITS_MS = [1000, 2000, 4000, 8000, 15000, 30000]
// While a conversation has a reply being written ("answering…", perhaps one the page left), the list is read
// again every ANSWERING_POLL_MS, so the mark goes when the reply is done.
export const ANSWERING_POLL_MS = 3000

export function createConversations({ api, timers = WINDOW_TIMERS }) {
  const state = reactive({ items: [], loading: false, loaded: false })
  let latest = 0
  let titleTimer = null
  let titleTries = 0
  let pendingKey = ''
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
      followTitles()
      timers.clearTimeout(pollTimer)
      if (items.some((c) => c.answering)) pollTimer = timers.setTimeout(() => load().catch(() => {}), ANSWERING_POLL_MS)
    } finally {
      if (ticket === latest) state.loading = false
    }
  }

  // Read the list again while a title is being written; new pending titles start the waits over.
  function followTitles() {
    timers.clearTimeout(titleTimer)
    const key = state.items.filter((c) => c.title_pending).map((c) => c.id).join(',')
    if (key !== pendingKey) titleTries = 0
    pendingKey = key
    if (!key || titleTries >= TITLE_WAITS_MS.length) return
    titleTimer = timers.setTimeout(() => load().catch(() => {}), TITLE_WAITS_MS[titleTries++])
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

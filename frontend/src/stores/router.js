// A tiny hash router: #/c/<conversation id>, #/compare, or #/ for a new chat. The hash keeps the
// open conversation across reloads and makes it linkable.
import { reactive } from 'vue'

export function parseHash(hash) {
  const path = (hash || '').replace(/^#\/?/, '')
  if (path === 'compare') return { view: 'compare', conversationId: null }
  const match = /^c\/(.+)$/.exec(path)
  if (match) return { view: 'chat', conversationId: decodeURIComponent(match[1]) }
  return { view: 'chat', conversationId: null }
}

export function createRouter(win = window) {
  const route = reactive(parseHash(win.location.hash))
  win.addEventListener('hashchange', () => Object.assign(route, parseHash(win.location.hash)))

  function go(hash, { replace = false } = {}) {
    if (win.location.hash === hash) return
    if (replace) win.history.replaceState(null, '', hash)
    else win.location.hash = hash
    Object.assign(route, parseHash(hash))
  }

  return {
    route,
    openConversation: (id, opts) => go(`#/c/${encodeURIComponent(id)}`, opts),
    newChat: () => go('#/'),
    compare: () => go('#/compare'),
  }
}

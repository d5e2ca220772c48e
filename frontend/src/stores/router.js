// A tiny hash router: #/c/<conversation id>, #/compare (a new compare session), #/compare/<id>, #/leaderboard,
// #/account (usage, keys, password), #/admin, #/data (training data, admins), #/runs (training runs and the New run
// form), #/runs/<run> (a run's page), or #/ for a new chat. The hash keeps the open conversation across reloads and makes it linkable. A link that names
// nothing we know (a typo, a cut-off or badly encoded id) is answered with `badLink`, never a crash.
import { reactive } from 'vue'

const NEW_CHAT = { view: 'chat', conversationId: null, badLink: null }
// views with no conversation: the address is the view's name
export const PAGES = ['leaderboard', 'account', 'admin', 'data', 'runs']

function decode(raw) {
  try {
    return decodeURIComponent(raw)
  } catch {
    return null // "%" or "%E0%A4": not a valid escape sequence
  }
}

export function parseHash(hash) {
  const path = (hash || '').replace(/^#\/?/, '')
  if (path === '') return { ...NEW_CHAT }
  if (path === 'compare') return { view: 'compare', conversationId: null, badLink: null }
  if (PAGES.includes(path)) return { view: path, conversationId: null, badLink: null }
  const run = /^runs\/(.+)$/.exec(path)
  if (run && decode(run[1])?.trim()) return { view: 'run', conversationId: null, badLink: null, runId: decode(run[1]) }
  const match = /^(c|compare)\/(.+)$/.exec(path)
  const id = match ? decode(match[2]) : null
  if (id && id.trim()) return { view: match[1] === 'c' ? 'chat' : 'compare', conversationId: id, badLink: null }
  return { ...NEW_CHAT, badLink: `#/${path}` }
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
    openCompare: (id, opts) => go(id ? `#/compare/${encodeURIComponent(id)}` : '#/compare', opts),
    newChat: () => go('#/'),
    compare: () => go('#/compare'),
    leaderboard: () => go('#/leaderboard'),
    account: () => go('#/account'),
    admin: () => go('#/admin'),
    data: () => go('#/data'),
    runs: () => go('#/runs'),
    openRun: (id) => go(`#/runs/${encodeURIComponent(id)}`),
  }
}

/** The address of a history entry: a compare session opens in the compare view. */
export function conversationHref(conversation) {
  const prefix = conversation.kind === 'compare' ? 'compare' : 'c'
  return `#/${prefix}/${encodeURIComponent(conversation.id)}`
}

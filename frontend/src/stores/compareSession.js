// A compare session: one conversation (kind "compare") with two columns, each answered by its own model and
// keeping its own history. It is created on the first prompt; each prompt is then sent once per column.
import { reactive } from 'vue'
import { createChatSession } from './chatSession.js'

export function createCompareSession({ api, onTurnFinished = () => {}, onTitle = () => {} }) {
  const state = reactive({ conversationId: null, models: [], loading: false })
  const columns = [0, 1].map((column) => createChatSession({ api, column, onTurnFinished, onTitle }))

  function apply(detail) {
    state.conversationId = detail.id
    state.models = (detail.columns || []).map((c) => c.model)
    for (const session of columns) session.apply(detail)
  }

  async function open(id) {
    if (!id) return reset()
    if (id === state.conversationId) return
    reset()
    state.loading = true
    try {
      apply(await api.conversation(id))
    } finally {
      state.loading = false
    }
  }

  function reset() {
    for (const session of columns) session.reset()
    Object.assign(state, { conversationId: null, models: [] })
  }

  /** Send `text` to both columns; the session is created first when there is none. Returns both results. */
  async function send(text, [left, right]) {
    if (!state.conversationId) {
      apply(await api.createConversation({ kind: 'compare', models: [left.model, right.model] }))
    }
    return Promise.all([columns[0].send(text, left), columns[1].send(text, right)])
  }

  function stop() {
    for (const session of columns) session.stop()
  }

  return {
    state,
    columns,
    open,
    reset,
    send,
    stop,
    get sending() {
      return columns.some((s) => s.state.sending)
    },
  }
}

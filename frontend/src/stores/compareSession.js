// A compare session: one conversation (kind "compare") with two columns, each answered by its own model and
// keeping its own history. It is created on the first prompt; each prompt is then sent once per column.
// A blind session (two random models, as in Chatbot Arena) hides both models until the first vote in it.
import { reactive } from 'vue'
import { createChatSession } from './chatSession.js'
import { createCompareVotes, latestPair } from './compareVotes.js'

export function createCompareSession({ api, onTurnStarted = () => {}, onTurnFinished = () => {}, onTitle = () => {},
  needsLoad = () => false }) {
  const state = reactive({ conversationId: null, models: [], blind: false, revealed: false, loading: false })
  const columns = [0, 1].map((column) => createChatSession({ api, column, onTurnStarted, onTurnFinished, onTitle,
    needsLoad }))
  const votes = createCompareVotes({ api })

  function apply(detail) {
    state.conversationId = detail.id
    state.models = (detail.columns || []).map((c) => c.model ?? null)
    state.blind = detail.blind === true
    state.revealed = detail.revealed === true
    votes.reset(detail.votes)
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
    votes.reset()
    Object.assign(state, { conversationId: null, models: [], blind: false, revealed: false })
  }

  /**
   * Send `text` to both columns; the session is created first when there is none — with the two models of
   * `options`, or (`blind`) with two the server draws at random. Returns both results.
   */
  async function send(text, [left, right], { blind = false } = {}) {
    if (!state.conversationId) {
      apply(await api.createConversation(blind ? { kind: 'compare', blind: true }
        : { kind: 'compare', models: [left.model, right.model] }))
    }
    return Promise.all([columns[0].send(text, left), columns[1].send(text, right)])
  }

  /** The models' names are hidden: a blind session nobody has voted in yet. */
  const hidden = () => state.blind && !state.revealed

  /** Vote on the latest pair of replies; the first vote in a blind session reveals both models. */
  async function vote(winner) {
    const wasHidden = hidden()
    const cast = await votes.cast(latestPair(columns[0].state.messages, columns[1].state.messages), winner)
    if (wasHidden) await reveal(cast)
    return cast
  }

  // The vote's answer names both models: show them at once, then re-read the session for each reply's model.
  async function reveal(cast) {
    const id = state.conversationId
    Object.assign(state, { models: [cast.left.model, cast.right.model], revealed: true })
    onTurnFinished(id) // the history entry said "models hidden until you vote": it names them now, without a reload
    try {
      const detail = await api.conversation(id)
      if (state.conversationId === id) apply(detail) // unless the person moved on (New comparison) meanwhile
    } catch {
      // the vote is saved and the columns are named; only the replies' own labels wait for the next open
    }
    votes.remember(cast)
  }

  function stop() {
    for (const session of columns) session.stop()
  }

  return {
    state,
    columns,
    votes,
    open,
    reset,
    send,
    vote,
    hidden,
    stop,
    latestPair: () => latestPair(columns[0].state.messages, columns[1].state.messages),
    get sending() {
      return columns.some((s) => s.state.sending)
    },
  }
}

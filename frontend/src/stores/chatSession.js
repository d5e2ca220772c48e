// One conversation thread on screen: the branch of the message tree that is shown, and what can be done to
// it — send, edit (a new branch), regenerate (a new version of a reply), Continue (extend a cut-off reply),
// switch versions, Stop. Nothing is ever deleted: edits and regenerations add siblings on the server.
// A reply is a job of the server: showing another conversation (or reloading) only stops following it, and a
// thread opened while one of its replies is being written follows that reply on from the text it shows (it grows
// on screen, never replayed from its start). Stop asks the
// server to stop it. The chat view uses one session; a compare session uses one per column (`column`).
import { reactive } from 'vue'
import { streamTurn } from './streamTurn.js'

let tempCounter = 0
const tempId = (prefix) => `${prefix}-${Date.now()}-${++tempCounter}`
const isSaved = (message) => Number.isInteger(message?.id)
/** Characters as the API counts them (code points), for `?shown=`. */
const chars = (text) => [...text].length

/**
 * The parent a new message on screen gets: the last message when it is a saved reply; undefined (the server
 * appends after its current branch) when the thread is empty or ends with an unanswered message.
 */
function lastSavedReply(messages) {
  const last = messages[messages.length - 1]
  return last && last.role === 'assistant' && isSaved(last) ? last.id : undefined
}

function pendingReply(model, extra = {}) {
  return { id: tempId('reply'), role: 'assistant', content: '', model, status: 'streaming', finish_reason: null,
    usage: null, response_time_ms: null, sibling_ids: [], ...extra }
}

/**
 * @param needsLoad (modelId) => whether the model server has yet to load that model: its pending reply then says
 *   "Loading <model>…" (`loadingModel`) until the first token, instead of looking hung for the load's duration.
 */
export function createChatSession({ api, column = null, onTurnStarted = () => {}, onTurnFinished = () => {},
  onTitle = () => {}, needsLoad = () => false }) {
  const state = reactive({ conversationId: null, title: '', kind: 'chat', models: [], messages: [], sending: false,
    loading: false })
  let controller = null
  // the turn on screen: its reply, and whether Stop was pressed before the server said which reply it is
  let active = null
  // Bumped whenever the thread shows another conversation (new chat, open, search hit): a request still
  // running for the one before (e.g. waiting for its title) must no longer touch this thread.
  let epoch = 0
  // Replies this thread stopped following when it showed another conversation: the text it showed and the last
  // event id that text matches (null: none yet), so coming back follows on from there, not from the saved text.
  const left = new Map()

  function setConversation(id) {
    if (id && state.conversationId !== id) state.conversationId = id
  }

  /** Show a conversation detail (GET, PUT current): the branch on screen, or this column's branch. */
  function apply(detail) {
    if (detail.id !== state.conversationId) epoch += 1
    state.conversationId = detail.id
    state.title = detail.title || ''
    state.kind = detail.kind || 'chat'
    state.models = detail.models || (detail.model ? [detail.model] : [])
    state.messages = column === null ? detail.messages || [] : detail.columns?.[column]?.messages || []
    attach()
  }

  async function open(id, { force = false } = {}) {
    if (!id) return reset()
    if (!force && id === state.conversationId && state.messages.length) return
    detach()
    state.loading = true
    try {
      apply(await api.conversation(id))
    } finally {
      state.loading = false
    }
  }

  // A reply of this thread still being written (opened after a reload, from the history, or in another tab):
  // follow it on from what the page shows, so it grows on screen as if it had been sent from here: the text this
  // thread showed when it left it (after its last event), else the saved text (past its characters).
  function attach() {
    const reply = state.messages.findLast((m) => m.role === 'assistant' && m.status === 'streaming' && isSaved(m))
    if (!reply || controller || !api.followReply) return
    const user = state.messages.find((m) => m.id === reply.parent_id && m.role === 'user') || null
    const shown = left.get(reply.id)
    left.delete(reply.id)
    const resume = shown && shown.content.startsWith(reply.content) ? shown : { content: reply.content, lastEventId: null }
    reply.content = resume.content
    const request = (signal, onEvent) => followOn(reply, resume.lastEventId, signal, onEvent)
    run(request, user, reply).then((result) => {
      // the server settles the question with its answer: answered, unless the reply failed
      if (user?.status === 'pending' && result.started && !result.detached) user.status = reply.status === 'error' ? 'error' : 'complete'
    })
  }

  /** Follow `reply` after event `lastEventId`, or with none, past the text it shows. */
  function followOn(reply, lastEventId, signal, onEvent) {
    const from = lastEventId === null || lastEventId === undefined ? { shown: chars(reply.content) } : { lastEventId }
    return api.followReply(reply.id, { ...from, signal, onEvent })
  }

  function reset() {
    detach()
    epoch += 1
    Object.assign(state, { conversationId: null, title: '', kind: 'chat', models: [], messages: [] })
  }

  /**
   * Run one streamed request. The thread is locked until the reply is done — not until the stream closes:
   * after the first exchange the stream stays open a moment longer for the title the model writes.
   */
  async function run(request, user, reply) {
    const own = new AbortController()
    const mine = epoch
    const current = () => epoch === mine
    const turn = { reply, stopWanted: false, lastEventId: null }
    controller = own
    active = turn
    state.sending = true
    const release = () => {
      if (controller !== own) return // a newer request owns the thread by now
      controller = null
      active = null
      state.sending = false
    }
    const follow = api.followReply ? (id, lastEventId, signal, onEvent) => followOn(reply, lastEventId, signal, onEvent) : null
    try {
      return await streamTurn(request, { user, reply, signal: own.signal, follow, onDone: release,
        onEventId: (id) => { turn.lastEventId = id },
        onStart: () => {
          if (turn.stopWanted) requestStop(reply)
          if (current()) onTurnStarted(state.conversationId)
        },
        onConversation: (id) => current() && setConversation(id),
        onTitle: (id, title) => {
          if (current() && id === state.conversationId) state.title = title
          onTitle(id, title) // the history list shows it whichever conversation is on screen
        } })
    } finally {
      release()
      if (current() && reply.model && !state.models.includes(reply.model)) state.models = [...state.models, reply.model]
      onTurnFinished(state.conversationId)
    }
  }

  function withColumn(body) {
    return column === null ? body : { ...body, column }
  }

  /**
   * Send `text` after the branch on screen, or — with `parentId` (a saved message id or null for the
   * first message) — as a new branch from there (that is what editing a message does). When the API
   * never accepted it, the thread is put back as it was and the caller gets the text back.
   */
  async function send(text, { model, params, parentId, replaceFrom = null } = {}) {
    if (state.sending || !text.trim()) return { ok: false, error: null }
    const before = state.messages
    const cut = replaceFrom === null ? before.length : before.indexOf(replaceFrom)
    const user = reactive({ id: tempId('user'), role: 'user', content: text, status: 'pending', sibling_ids: [] })
    const reply = reactive(pendingReply(model, { loadingModel: needsLoad(model) }))
    state.messages = [...before.slice(0, cut === -1 ? before.length : cut), user, reply]
    const body = withColumn({ message: text, params })
    if (model) body.model = model // a blind compare column names none: the server knows its model
    if (state.conversationId) body.conversation_id = state.conversationId
    // Name the parent: the new message follows what is on screen, even if the server's idea of the current
    // branch moved meanwhile (another tab, a request that was stopped before it started).
    const parent = parentId !== undefined ? parentId : lastSavedReply(before.slice(0, cut === -1 ? before.length : cut))
    if (parent !== undefined) body.parent_id = parent
    const result = await run((signal, onEvent) => api.chatStream(body, { signal, onEvent }), user, reply)
    if (result.detached) return result // the thread shows another conversation now; the reply goes on there
    if (user.status === 'pending' && result.started) user.status = 'complete'
    if (!result.ok && !result.started) {
      const saved = result.error && result.error.userMessage
      if (saved) {
        // The API kept the message (status error) although no model answered: show it, offer Retry.
        Object.assign(user, saved)
        setConversation(result.error.conversationId)
        state.messages = state.messages.filter((m) => m !== reply)
        return { ...result, started: true, saved: true }
      }
      state.messages = before
    }
    return result
  }

  /** Edit user message `message`: the new text becomes its sibling (a new branch); the old branch stays. */
  function edit(message, text, options) {
    return send(text, { ...options, parentId: message.parent_id ?? null, replaceFrom: message })
  }

  /**
   * Answer user message `prompt` again (default: the last one on screen). The new reply is a new version
   * next to the earlier ones; a failed attempt puts the thread back as it was.
   */
  async function regenerate({ model, params, prompt = null } = {}) {
    if (state.sending || !state.conversationId) return { ok: false, error: null }
    const target = prompt || state.messages.findLast((m) => m.role === 'user')
    const index = state.messages.indexOf(target)
    if (index === -1) return { ok: false, error: null }
    const before = state.messages
    const reply = reactive(pendingReply(model, { loadingModel: needsLoad(model) }))
    state.messages = [...before.slice(0, index + 1), reply]
    const body = withColumn({ params })
    if (model) body.model = model
    if (isSaved(target)) body.message_id = target.id
    const id = state.conversationId
    const result = await run((signal, onEvent) => api.regenerateStream(id, body, { signal, onEvent }), target, reply)
    if (!result.started && !result.detached) state.messages = before // refused: the thread as it was
    return result
  }

  /** Extend a reply that was cut off at max_tokens (or stopped): the text is appended to the same message. */
  async function continueReply(reply, { params } = {}) {
    if (state.sending || !isSaved(reply)) return { ok: false, error: null }
    const saved = { status: reply.status, finish_reason: reply.finish_reason, error: reply.error }
    Object.assign(reply, { status: 'streaming', finish_reason: null, loadingModel: needsLoad(reply.model) })
    const body = params?.max_tokens ? { params: { max_tokens: params.max_tokens } } : {}
    const result = await run((signal, onEvent) => api.continueStream(reply.id, body, { signal, onEvent }), null, reply)
    if (!result.started && !result.detached) Object.assign(reply, saved)
    return result
  }

  /** Show another version of a message: the server puts the branch through it on screen. */
  async function showVersion(messageId) {
    if (state.sending || !state.conversationId) return
    apply(await api.setCurrent(state.conversationId, messageId))
  }

  /**
   * Stop the reply being written: the server stops it (wherever it runs) and its stream ends with the stopped
   * reply. Pressed before the server said which reply it is, the stop is sent as soon as it does.
   */
  function stop() {
    if (!active) return
    if (isSaved(active.reply)) requestStop(active.reply)
    else active.stopWanted = true
  }

  function requestStop(reply) {
    api.stopReply(reply.id).catch(() => {
      // the stream goes on and ends as the server decides; Stop can be pressed again
    })
  }

  /** Stop following the reply on screen (another conversation is shown): the server goes on writing it. */
  function detach() {
    if (!controller) return
    const reply = active?.reply
    if (reply && isSaved(reply) && reply.status === 'streaming') left.set(reply.id, { content: reply.content, lastEventId: active.lastEventId })
    controller.abort()
    controller = null
    active = null
    state.sending = false
  }

  return { state, apply, open, reset, send, edit, regenerate, continueReply, showVersion, stop }
}

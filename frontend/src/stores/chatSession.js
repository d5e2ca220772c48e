// One conversation thread: its messages, sending/streaming a turn, Stop and regenerate.
// The chat view uses one session; the compare view uses one per column.
import { reactive } from 'vue'
import { ApiError, isAbort, toApiError } from '../api/errors.js'

let tempCounter = 0
const tempId = (prefix) => `${prefix}-${Date.now()}-${++tempCounter}`

function pendingReply(model) {
  return { id: tempId('reply'), role: 'assistant', content: '', model, status: 'streaming', usage: null, response_time_ms: null }
}

export function createChatSession({ api, onTurnFinished = () => {} }) {
  const state = reactive({ conversationId: null, title: '', messages: [], sending: false, loading: false })
  let controller = null

  function setConversation(id) {
    if (id && state.conversationId !== id) state.conversationId = id
  }

  async function open(id) {
    if (!id) return reset()
    if (id === state.conversationId && state.messages.length) return
    stop()
    state.loading = true
    try {
      const conversation = await api.conversation(id)
      state.conversationId = conversation.id
      state.title = conversation.title || ''
      state.messages = conversation.messages || []
    } finally {
      state.loading = false
    }
  }

  function reset() {
    stop()
    Object.assign(state, { conversationId: null, title: '', messages: [] })
  }

  /**
   * Run one streamed request. `user` is the user message to fill in from `start` (or null),
   * `reply` the assistant message the deltas go into. Returns { ok, started, stopped, error }.
   */
  async function stream(request, user, reply) {
    state.sending = true
    controller = new AbortController()
    const startedAt = Date.now()
    let started = false
    let finished = false // the API ends every stream with done or error; without one it was cut off
    let serverError = null
    const onEvent = ({ event, data }) => {
      if (!data || typeof data !== 'object') return
      if (data.conversation_id) setConversation(data.conversation_id)
      if (event === 'start') {
        started = true
        if (user && data.user_message) Object.assign(user, data.user_message)
      } else if (event === 'delta') {
        reply.content += data.content || ''
      } else if (event === 'done') {
        finished = true
        if (data.message) Object.assign(reply, data.message)
      } else if (event === 'error') {
        serverError = data.error || { message: 'The model failed to answer.' }
        if (data.message) Object.assign(reply, data.message)
      }
    }
    try {
      await request(controller.signal, onEvent)
      if (serverError) throw new ApiError({ message: serverError.message || 'The model failed to answer.', code: serverError.code })
      if (!finished) throw new ApiError({ message: 'The connection closed before the reply finished.', code: 'incomplete' })
      if (reply.status === 'streaming') reply.status = 'complete'
      return { ok: true, started: true }
    } catch (err) {
      if (isAbort(err)) {
        reply.status = 'stopped'
        reply.response_time_ms ??= Date.now() - startedAt
        return { ok: true, started, stopped: true }
      }
      const error = toApiError(err)
      reply.status = 'error'
      reply.error = error.message
      return { ok: false, started: started || !!serverError, error }
    } finally {
      state.sending = false
      controller = null
      onTurnFinished(state.conversationId)
    }
  }

  /** Send `text`; when the API never accepted it, the turn is removed and the caller gets the text back. */
  async function send(text, { model, params }) {
    if (state.sending || !text.trim()) return { ok: false, error: null }
    state.messages.push({ id: tempId('user'), role: 'user', content: text, status: 'complete' })
    state.messages.push(pendingReply(model))
    const user = state.messages[state.messages.length - 2]
    const reply = state.messages[state.messages.length - 1]
    const body = { message: text, model, params }
    if (state.conversationId) body.conversation_id = state.conversationId
    const result = await stream((signal, onEvent) => api.chatStream(body, { signal, onEvent }), user, reply)
    if (!result.ok && !result.started) {
      const saved = result.error && result.error.userMessage
      if (saved) {
        // The API kept the message (status error) although no model answered: show it, offer Retry.
        Object.assign(user, saved)
        setConversation(result.error.conversationId)
        state.messages = state.messages.filter((m) => m !== reply)
        return { ...result, started: true, saved: true }
      }
      state.messages = state.messages.filter((m) => m !== user && m !== reply)
    }
    return result
  }

  /** Replace the last reply with a new one (same prompt, possibly another model or settings). */
  async function regenerate({ model, params }) {
    if (state.sending || !state.conversationId) return { ok: false, error: null }
    const last = state.messages[state.messages.length - 1]
    const previous = last && last.role === 'assistant' ? { ...last } : null
    if (previous) state.messages.pop()
    // The prompt answered again: its saved copy (from start) replaces ours, e.g. a failed one becomes complete.
    const prompt = state.messages.findLast((m) => m.role === 'user') || null
    state.messages.push(pendingReply(model))
    const reply = state.messages[state.messages.length - 1]
    const id = state.conversationId
    const result = await stream((signal, onEvent) => api.regenerateStream(id, { model, params }, { signal, onEvent }), prompt, reply)
    if (!result.ok && !result.started && previous) state.messages.splice(state.messages.length - 1, 1, previous)
    return result
  }

  function stop() {
    if (controller) controller.abort()
  }

  return { state, open, reset, send, regenerate, stop }
}

export { toApiError }

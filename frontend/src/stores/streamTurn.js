// One streamed request (send, edit, regenerate, Continue): applies the SSE events to the thread's message
// objects and says how it ended. The API ends every stream with `done` or `error`; a stream that just
// stops was cut off and must not pass for a finished reply.
import { ApiError, isAbort, toApiError } from '../api/errors.js'

/**
 * @param {(signal: AbortSignal, onEvent: Function) => Promise<void>} request starts the request
 * @param {object} turn  { user: message to fill from `start` (or null), reply: the assistant message,
 *                         signal, onConversation(id), onTitle(id, title), onStart(), onDone() }
 * @returns {Promise<{ok: boolean, started: boolean, stopped?: boolean, error?: ApiError}>}
 */
export async function streamTurn(request, { user = null, reply, signal, onConversation = () => {}, onTitle = () => {},
  onStart = () => {}, onDone = () => {} }) {
  const startedAt = Date.now()
  let started = false
  let finished = false
  let serverError = null
  const onEvent = ({ event, data }) => {
    if (!data || typeof data !== 'object') return
    if (data.conversation_id) onConversation(data.conversation_id)
    if (event === 'start') {
      started = true
      if (user && data.user_message) Object.assign(user, data.user_message)
      // The saved reply row (its id and versions are known from the start); keep any text we already have.
      if (data.message) Object.assign(reply, data.message, { content: data.message.content || reply.content, status: 'streaming' })
      onStart()
    } else if (event === 'delta') {
      reply.content += data.content || ''
    } else if (event === 'done') {
      finished = true
      if (data.message) Object.assign(reply, data.message)
      if (data.conversation?.title) onTitle(data.conversation_id, data.conversation.title) // a JSON (non-stream) answer
      // The prompt has its answer now: it is no longer "not answered", whatever an older copy said.
      if (user && user.status === 'error') user.status = 'complete'
      if (reply.status === 'streaming') reply.status = 'complete'
      onDone() // the reply is finished; the stream may stay open a moment for the title
    } else if (event === 'error') {
      serverError = data.error || { message: 'The model failed to answer.' }
      if (data.message) Object.assign(reply, data.message)
    } else if (event === 'title' && data.title) {
      onTitle(data.conversation_id, data.title)
    }
  }
  try {
    await request(signal, onEvent)
    if (serverError) throw new ApiError({ message: serverError.message || 'The model failed to answer.', code: serverError.code })
    if (!finished) throw new ApiError({ message: 'The connection closed before the reply finished.', code: 'incomplete' })
    if (reply.status === 'streaming') reply.status = 'complete'
    return { ok: true, started: true }
  } catch (err) {
    if (isAbort(err)) {
      reply.status = 'stopped'
      reply.finish_reason = null
      reply.response_time_ms ??= Date.now() - startedAt
      return { ok: true, started, stopped: true }
    }
    const error = toApiError(err)
    reply.status = 'error'
    reply.error = error.message
    return { ok: false, started: started || !!serverError, error }
  }
}

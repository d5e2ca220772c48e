// One streamed turn (send, edit, regenerate, Continue, or following a reply that is already being written):
// applies the SSE events to the thread's message objects and says how it ended. A reply is a job of the server:
// a connection that drops does not end it, so the turn follows it again from the last event it saw (`follow`).
// The API ends every reply's stream with `done` or `error`; one that just stops was cut off, and is followed
// again a few times before the turn says so.
import { ApiError, isAbort, toApiError } from '../api/errors.js'

export const REATTACH_WAITS_MS = [250, 1000, 2000, 4000, 8000]

const pause = (ms, signal) => new Promise((resolve, reject) => {
  const timer = setTimeout(resolve, ms)
  signal?.addEventListener('abort', () => {
    clearTimeout(timer)
    reject(new DOMException('aborted', 'AbortError'))
  }, { once: true })
})

/** A refusal of the request itself (4xx): following again cannot help. */
const refused = (err) => err instanceof ApiError && err.status >= 400 && err.status < 500

/**
 * @param {(signal: AbortSignal, onEvent: Function) => Promise<void>} request starts the request
 * @param {object} turn  { user: message to fill from `start` (or null), reply: the assistant message,
 *                         signal, follow(replyId, lastEventId, signal, onEvent) (re-attach; null: none; a
 *                         lastEventId of null: no event matches the reply's text yet, follow on past its text),
 *                         onConversation(id), onTitle(id, title), onStart(), onDone(), onEventId(id) }
 * @returns {Promise<{ok: boolean, started: boolean, detached?: boolean, stopped?: boolean, error?: ApiError}>}
 *   detached: the turn's signal was aborted (the thread shows something else now); the reply goes on.
 */
export async function streamTurn(request, { user = null, reply, signal, follow = null, onConversation = () => {},
  onTitle = () => {}, onStart = () => {}, onDone = () => {}, onEventId = () => {} }) {
  let started = false
  let finished = false
  let serverError = null
  let lastEventId = null
  const onEvent = ({ event, data, id }) => {
    if (id !== undefined) {
      lastEventId = id
      onEventId(id)
    }
    if (!data || typeof data !== 'object') return
    if (data.conversation_id) onConversation(data.conversation_id)
    if (event === 'start') {
      started = true
      if (user && data.user_message) Object.assign(user, data.user_message)
      // The saved reply row (its id and versions are known from the start); keep the text we show when it is
      // further on (a page following on past its text): the text on screen never gets shorter.
      const text = data.message?.content || ''
      if (data.message) Object.assign(reply, data.message, { content: text.length > reply.content.length ? text : reply.content, status: 'streaming' })
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
  const attempt = async (run) => {
    try {
      await run()
      return null
    } catch (err) {
      if (isAbort(err)) throw err
      return err
    }
  }
  try {
    let failure = await attempt(() => request(signal, onEvent))
    // The connection dropped mid-reply: the server is still writing it. Follow it from the last event seen.
    for (const wait of REATTACH_WAITS_MS) {
      if (finished || serverError || !started || !follow || !Number.isInteger(reply.id) || refused(failure)) break
      await pause(wait, signal)
      failure = await attempt(() => follow(reply.id, lastEventId, signal, onEvent))
    }
    if (serverError) throw new ApiError({ message: serverError.message || 'The model failed to answer.', code: serverError.code })
    if (!finished) throw failure || new ApiError({ message: 'The connection closed before the reply finished.', code: 'incomplete' })
    if (reply.status === 'streaming') reply.status = 'complete'
    return { ok: true, started: true, stopped: reply.status === 'stopped' }
  } catch (err) {
    if (isAbort(err)) return { ok: true, started, detached: true }
    const error = toApiError(err)
    reply.status = 'error'
    reply.error = error.message
    return { ok: false, started: started || !!serverError, error }
  }
}

// The chat API's endpoints (docs/api.md). JSON calls go through axios; streamed ones through fetch (see sse.js).
import axios from 'axios'
import { errorFromResponse, toApiError } from './errors.js'
import { streamGet, streamPost } from './sse.js'

export const http = axios.create({ baseURL: '/api', timeout: 120000 })
const path = (id) => encodeURIComponent(id)

export async function call(promise) {
  try {
    const response = await promise
    return response.data
  } catch (err) {
    throw toApiError(err)
  }
}

/** POST `body` with stream: true; onEvent gets { event: start|delta|done|error|title, data }. */
function stream(url, body, { signal, onEvent }) {
  return streamPost(url, { ...body, stream: true }, { signal, onEvent, toError: errorFromResponse }).catch(rethrow)
}

export const api = {
  health: () => call(http.get('/health')),
  models: () => call(http.get('/models')).then((data) => data.models || []),
  limits: () => call(http.get('/limits')),
  conversations: () => call(http.get('/conversations')).then((data) => data.conversations || []),
  conversation: (id) => call(http.get(`/conversations/${path(id)}`)),
  /** A compare session: { kind: 'compare', models: [left, right] } -> the new conversation's detail. */
  createConversation: (body) => call(http.post('/conversations', body)),
  rename: (id, title) => call(http.patch(`/conversations/${path(id)}`, { title })),
  remove: (id) => call(http.delete(`/conversations/${path(id)}`)),
  /** Put the branch through `messageId` on screen; answers the conversation detail. */
  setCurrent: (id, messageId) => call(http.put(`/conversations/${path(id)}/current`, { message_id: messageId })),
  search: (q, limit = 20) => call(http.get('/search', { params: { q, limit } })).then((data) => data.results || []),
  exportUrl: (id, format) => `/api/conversations/${path(id)}/export?format=${format}`,
  /** Rate a reply and/or save a better answer: { rating: up|down|null, correction: str } -> the updated message. */
  setFeedback: (messageId, body) => call(http.put(`/messages/${path(messageId)}/feedback`, body)),
  /** A compare vote: { left_message_id, right_message_id, winner } -> { vote } (voting again on a pair replaces it). */
  vote: (body) => call(http.post('/votes', body)).then((data) => data.vote),
  leaderboard: () => call(http.get('/leaderboard')),
  modelCard: (id) => call(http.get(`/models/${path(id)}/card`)),

  chatStream: (body, options) => stream('/api/chat', body, options),
  regenerateStream: (id, body, options) => stream(`/api/conversations/${path(id)}/regenerate`, body, options),
  continueStream: (messageId, body, options) => stream(`/api/messages/${path(messageId)}/continue`, body, options),
  /** Follow a reply being written (a job of the server) from the start, or after event `lastEventId`. */
  followReply: (messageId, { lastEventId = null, shown = 0, signal, onEvent }) =>
    streamGet(`/api/messages/${path(messageId)}/stream${shown ? `?shown=${shown}` : ''}`,
      { lastEventId, signal, onEvent, toError: errorFromResponse })
      .catch(rethrow),
  /** Stop a reply being written, wherever it runs: -> the saved message (stopped). */
  stopReply: (messageId) => call(http.post(`/messages/${path(messageId)}/stop`, {})).then((data) => data.message),
}

function rethrow(err) {
  if (err && err.name === 'AbortError') throw err
  throw toApiError(err)
}

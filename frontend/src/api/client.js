// The chat API's endpoints (docs/api.md). JSON calls go through axios; streamed ones through fetch (see sse.js).
import axios from 'axios'
import { errorFromResponse, toApiError } from './errors.js'
import { streamPost } from './sse.js'

const http = axios.create({ baseURL: '/api', timeout: 120000 })

async function call(promise) {
  try {
    const response = await promise
    return response.data
  } catch (err) {
    throw toApiError(err)
  }
}

export const api = {
  health: () => call(http.get('/health')),
  models: () => call(http.get('/models')).then((data) => data.models || []),
  conversations: () => call(http.get('/conversations')).then((data) => data.conversations || []),
  conversation: (id) => call(http.get(`/conversations/${encodeURIComponent(id)}`)),
  rename: (id, title) => call(http.patch(`/conversations/${encodeURIComponent(id)}`, { title })),
  remove: (id) => call(http.delete(`/conversations/${encodeURIComponent(id)}`)),
  exportUrl: (id, format) => `/api/conversations/${encodeURIComponent(id)}/export?format=${format}`,

  /** Stream a chat turn; onEvent gets { event: start|delta|done|error, data }. */
  chatStream(body, { signal, onEvent }) {
    return streamPost('/api/chat', { ...body, stream: true }, { signal, onEvent, toError: errorFromResponse }).catch(rethrow)
  },
  regenerateStream(id, body, { signal, onEvent }) {
    const url = `/api/conversations/${encodeURIComponent(id)}/regenerate`
    return streamPost(url, { ...body, stream: true }, { signal, onEvent, toError: errorFromResponse }).catch(rethrow)
  },
}

function rethrow(err) {
  if (err && err.name === 'AbortError') throw err
  throw toApiError(err)
}

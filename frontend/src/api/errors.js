// One error type for everything the API (or the network) can answer, with a message a person can read.

const FALLBACK_BY_STATUS = {
  400: 'The request was not accepted.',
  404: 'Not found — it may have been deleted.',
  413: 'That message is too long for this model.',
  429: 'Too many requests right now.',
  500: 'The server hit an internal error.',
  502: 'The chat server is not reachable.',
  503: 'The model is busy or unavailable. Try again in a moment.',
  504: 'The chat server took too long to answer.',
}

export class ApiError extends Error {
  constructor({ message, status = 0, code = null, field = null, retryAfter = null, conversationId = null, userMessage = null }) {
    super(message)
    // Set when the API saved the user's message before failing (model server down): it is not lost.
    this.conversationId = conversationId
    this.userMessage = userMessage
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.field = field
    this.retryAfter = retryAfter
  }
}

/** Build an ApiError from a status, the `{"error": {...}}` body (if any) and the response headers. */
export function errorFromResponse(status, body, headers) {
  const detail = (body && body.error) || {}
  const retryHeader = headers && (typeof headers.get === 'function' ? headers.get('retry-after') : headers['retry-after'])
  const retryAfter = retryHeader ? Number.parseInt(retryHeader, 10) || null : null
  let message = typeof detail.message === 'string' && detail.message ? detail.message : FALLBACK_BY_STATUS[status]
  if (!message) message = `The server answered with status ${status}.`
  if (status === 429 || status === 503) {
    // The API's messages may lack a final stop ("queue full"): end that sentence before adding ours.
    if (retryAfter) message = `${message.trim().replace(/([^.!?])$/, '$1.')} Retry in ${retryAfter} s.`
  }
  const saved = body && typeof body.user_message === 'object' && body.user_message ? body.user_message : null
  return new ApiError({ message, status, code: detail.code ?? null, field: detail.field ?? null, retryAfter,
    conversationId: (body && body.conversation_id) || null, userMessage: saved })
}

export function networkError() {
  return new ApiError({ message: 'Cannot reach the chat server. Check that it is running, then try again.', code: 'network' })
}

/** Turn anything thrown (axios error, fetch TypeError, ApiError) into an ApiError. */
export function toApiError(err) {
  if (err instanceof ApiError) return err
  if (err && err.response) return errorFromResponse(err.response.status, err.response.data, err.response.headers)
  if (err && (err.name === 'TypeError' || err.code === 'ERR_NETWORK' || err.request)) return networkError()
  return new ApiError({ message: (err && err.message) || 'Something went wrong.' })
}

export function isAbort(err) {
  return !!err && (err.name === 'AbortError' || err.name === 'CanceledError')
}

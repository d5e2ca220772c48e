// Server-sent events over fetch: EventSource cannot POST, so we read the response body ourselves.

/**
 * An incremental SSE parser. Feed it text in arbitrary pieces (frames may be split anywhere);
 * it calls onEvent({ event, data, id? }) once per complete frame (`id` when the frame has an `id:` line). `data` is JSON-decoded when it parses,
 * otherwise the raw string. Frames without data (comments, keep-alives) are ignored.
 */
export function createSseParser(onEvent) {
  let buffer = ''

  function dispatchFrame(frame) {
    let event = 'message'
    let id = null
    const dataLines = []
    for (const line of frame.split('\n')) {
      if (line === '' || line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const field = colon === -1 ? line : line.slice(0, colon)
      let value = colon === -1 ? '' : line.slice(colon + 1)
      if (value.startsWith(' ')) value = value.slice(1)
      if (field === 'event') event = value
      else if (field === 'data') dataLines.push(value)
      else if (field === 'id') id = value
    }
    if (dataLines.length === 0) return
    const raw = dataLines.join('\n')
    let data = raw
    try {
      data = JSON.parse(raw)
    } catch {
      // not JSON (e.g. an OpenAI-style "[DONE]"): hand the string over as it is
    }
    onEvent(id === null ? { event, data } : { event, data, id })
  }

  return {
    push(text) {
      // Normalise CRLF / CR line endings so one splitting rule covers every server.
      buffer = (buffer + text).replace(/\r\n?/g, '\n')
      let end = buffer.indexOf('\n\n')
      while (end !== -1) {
        dispatchFrame(buffer.slice(0, end))
        buffer = buffer.slice(end + 2)
        end = buffer.indexOf('\n\n')
      }
    },
    /** Flush a final frame that the server closed without a blank line. */
    end() {
      if (buffer.trim()) dispatchFrame(buffer)
      buffer = ''
    },
  }
}

/**
 * POST `body` as JSON and deliver the SSE frames of the answer to onEvent ({ event, data, id? }: `id` is the
 * event's id in the reply's log, what a dropped connection resumes after).
 * A JSON (non-stream) 2xx answer is turned into start + done events so callers handle one shape.
 * Non-2xx answers throw an ApiError built by `toError(status, body, headers)`.
 */
export function streamPost(url, body, options) {
  const init = { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }
  return streamFetch(url, init, options)
}

/** GET an SSE stream (a reply being followed), after the event `lastEventId` when given. */
export function streamGet(url, { lastEventId = null, ...options }) {
  const headers = lastEventId === null ? {} : { 'Last-Event-ID': String(lastEventId) }
  return streamFetch(url, { method: 'GET', headers }, options)
}

async function streamFetch(url, init, { signal, onEvent, toError }) {
  const response = await fetch(url, { ...init, headers: { ...init.headers, Accept: 'text/event-stream' }, signal })
  if (!response.ok) {
    let payload = null
    try {
      payload = await response.json()
    } catch {
      // a proxy's HTML error page: the status alone has to do
    }
    throw toError(response.status, payload, response.headers)
  }
  const type = response.headers.get('content-type') || ''
  if (!type.includes('text/event-stream')) {
    const payload = await response.json()
    onEvent({ event: 'start', data: payload })
    onEvent({ event: 'done', data: payload })
    return
  }
  const parser = createSseParser(onEvent)
  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    parser.push(decoder.decode(value, { stream: true }))
  }
  parser.push(decoder.decode())
  parser.end()
}

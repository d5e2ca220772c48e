// Error messages a person can read, and streamPost against a real local HTTP server.
// @vitest-environment node
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { errorFromResponse, networkError, toApiError } from '../src/api/errors.js'
import { streamGet, streamPost } from '../src/api/sse.js'

describe('errorFromResponse', () => {
  it('uses the API message and adds Retry-After for 429/503', () => {
    const err = errorFromResponse(429, { error: { message: 'Too many requests', code: 'rate_limited' } }, new Headers({ 'Retry-After': '12' }))
    expect(err.message).toBe('Too many requests. Retry in 12 s.')
    expect([err.status, err.code, err.retryAfter]).toEqual([429, 'rate_limited', 12])
  })

  it('carries the conversation and the saved user message of a 503 (model server down)', () => {
    const body = { error: { message: 'model server unavailable', code: 'worker_unavailable' }, conversation_id: 'c1',
      user_message: { id: 8, role: 'user', content: 'Still there?', status: 'error' } }
    const err = errorFromResponse(503, body, new Headers())
    expect([err.conversationId, err.userMessage.id, err.userMessage.status]).toEqual(['c1', 8, 'error'])
    expect(errorFromResponse(400, { error: { message: 'bad' } }, {}).userMessage).toBeNull()
  })

  it('does not double the full stop when the API message already ends a sentence', () => {
    const err = errorFromResponse(503, { error: { message: 'The model is busy.' } }, new Headers({ 'Retry-After': '5' }))
    expect(err.message).toBe('The model is busy. Retry in 5 s.')
  })

  it('keeps the offending field and falls back to a status message without a body', () => {
    expect(errorFromResponse(400, { error: { message: 'bad', code: 'invalid_field', field: 'temperature' } }, {}).field).toBe('temperature')
    expect(errorFromResponse(413, null, {}).message).toMatch(/too long/)
    expect(errorFromResponse(418, null, {}).message).toBe('The server answered with status 418.')
  })

  it('turns a fetch TypeError into the network message', () => {
    expect(toApiError(new TypeError('Failed to fetch')).message).toBe(networkError().message)
  })
})

describe('streamPost', () => {
  let server
  let base
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/sse') {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' })
        res.write('event: start\ndata: {"conversation_id": "c"}\n\nevent: delta\nda')
        setTimeout(() => {
          res.write('ta: {"content": "h\u00e9"}\n\nevent: done\ndata: {"message": {"id": "m"}}\n\n')
          res.end()
        }, 20)
      } else if (req.url === '/follow') {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' })
        res.end(`id: 8\nevent: delta\ndata: {"after": "${req.headers['last-event-id'] || ''}"}\n\n`)
      } else if (req.url === '/json') {
        res.writeHead(200, { 'Content-Type': 'application/json' })
        res.end(JSON.stringify({ conversation_id: 'c', message: { id: 'm' } }))
      } else {
        res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '3' })
        res.end(JSON.stringify({ error: { message: 'queue full', code: 'busy' } }))
      }
    })
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${server.address().port}`
  })
  afterAll(() => new Promise((resolve) => server.close(resolve)))

  const run = async (path) => {
    const events = []
    await streamPost(`${base}${path}`, { message: 'x' }, { onEvent: (e) => events.push(e), toError: errorFromResponse })
    return events
  }

  it('delivers the frames of an event stream split across packets', async () => {
    expect(await run('/sse')).toEqual([
      { event: 'start', data: { conversation_id: 'c' } },
      { event: 'delta', data: { content: 'hé' } },
      { event: 'done', data: { message: { id: 'm' } } },
    ])
  })

  it('follows a stream after the last event id it saw (Last-Event-ID), and passes on each event id', async () => {
    const events = []
    await streamGet(`${base}/follow`, { lastEventId: 7, onEvent: (e) => events.push(e), toError: errorFromResponse })
    expect(events).toEqual([{ event: 'delta', data: { after: '7' }, id: '8' }])
  })

  it('turns a JSON answer into start + done', async () => {
    expect((await run('/json')).map((e) => e.event)).toEqual(['start', 'done'])
  })

  it('throws the API error with its Retry-After', async () => {
    await expect(run('/busy')).rejects.toMatchObject({ status: 503, message: 'queue full. Retry in 3 s.', retryAfter: 3 })
  })
})

// The SSE frame parser used for streamed replies.
import { describe, expect, it } from 'vitest'
import { createSseParser } from '../src/api/sse.js'

function collect(chunks, { end = false } = {}) {
  const events = []
  const parser = createSseParser((e) => events.push(e))
  chunks.forEach((c) => parser.push(c))
  if (end) parser.end()
  return events
}

describe('createSseParser', () => {
  it('parses named events with JSON data', () => {
    const events = collect([
      'event: start\ndata: {"conversation_id": "c1"}\n\n',
      'event: delta\ndata: {"content": "Hel"}\n\nevent: delta\ndata: {"content": "lo"}\n\n',
      'event: done\ndata: {"message": {"id": "m1"}}\n\n',
    ])
    expect(events.map((e) => e.event)).toEqual(['start', 'delta', 'delta', 'done'])
    expect(events[0].data).toEqual({ conversation_id: 'c1' })
    expect(events.slice(1, 3).map((e) => e.data.content).join('')).toBe('Hello')
  })

  it('reassembles frames split at any byte', () => {
    const stream = 'event: delta\ndata: {"content": "a b"}\n\nevent: done\ndata: {"ok": true}\n\n'
    for (let cut = 1; cut < stream.length; cut++) {
      const events = collect([stream.slice(0, cut), stream.slice(cut)])
      expect(events).toEqual([
        { event: 'delta', data: { content: 'a b' } },
        { event: 'done', data: { ok: true } },
      ])
    }
  })

  it('accepts CRLF line endings and defaults the event name to message', () => {
    expect(collect(['data: {"x": 1}\r\n\r\n'])).toEqual([{ event: 'message', data: { x: 1 } }])
  })

  it('joins multi-line data and keeps non-JSON data as a string', () => {
    expect(collect(['data: line one\ndata: line two\n\ndata: [DONE]\n\n'])).toEqual([
      { event: 'message', data: 'line one\nline two' },
      { event: 'message', data: '[DONE]' },
    ])
  })

  it('ignores comments and keep-alives, and waits for the blank line', () => {
    expect(collect([': ping\n\n', 'event: delta\ndata: {"content": "x"}\n'])).toEqual([])
  })

  it('flushes an unterminated last frame on end()', () => {
    expect(collect(['event: done\ndata: {"a": 1}'], { end: true })).toEqual([{ event: 'done', data: { a: 1 } }])
  })

  it('keeps a delta whose content contains blank lines intact (JSON escapes them)', () => {
    const payload = JSON.stringify({ content: 'a\n\nb' })
    expect(collect([`event: delta\ndata: ${payload}\n\n`])[0].data.content).toBe('a\n\nb')
  })

  it('passes on the id of a frame that has one (what a dropped stream resumes after)', () => {
    expect(collect(['id: 41\nevent: delta\ndata: {"content": "x"}\n\nevent: done\ndata: {}\n\n'])).toEqual([
      { event: 'delta', data: { content: 'x' }, id: '41' },
      { event: 'done', data: {} },
    ])
  })
})

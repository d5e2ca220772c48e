// The chat session: streamed events build the thread; failures before the API accepted a message
// remove the turn (the composer gets the text back); Stop asks the server and keeps the partial reply; leaving a
// conversation only stops following its reply, which is followed again when it is opened or the connection drops,
// on from the text the page shows (never replayed from its start).
import { describe, expect, it } from 'vitest'
import { createChatSession } from '../src/stores/chatSession.js'
import { ApiError } from '../src/api/errors.js'

const msg = (over) => ({ id: 'm', role: 'assistant', content: '', model: 'tiny', status: 'complete', ...over })

/** An API double that replays scripted SSE events (the thing under test is the session, not the API). */
function scriptedApi(events, { failWith = null, hang = false } = {}) {
  const calls = []
  const run = (kind) => async (body, { signal, onEvent }) => {
    calls.push({ kind, body })
    if (failWith) throw failWith
    for (const e of events) onEvent(e)
    if (hang) {
      await new Promise((resolve, reject) => signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))))
    }
  }
  return { calls, chatStream: run('chat'), regenerateStream: (id, body, opts) => run('regenerate')({ id, ...body }, opts) }
}

const START = { event: 'start', data: { conversation_id: 'c1', user_message: msg({ id: 'u1', role: 'user', content: 'hi' }) } }

describe('chat session', () => {
  it('keeps a message the API saved before failing (model server down) and retries it with regenerate', async () => {
    const saved = msg({ id: 'u9', role: 'user', content: 'Still there?', status: 'error' })
    const down = new ApiError({ message: 'model server unavailable', status: 503, code: 'worker_unavailable',
      conversationId: 'c9', userMessage: saved })
    const session = createChatSession({ api: scriptedApi([], { failWith: down }) })
    const result = await session.send('Still there?', { model: 'tiny', params: {} })
    expect(result).toMatchObject({ ok: false, started: true, saved: true })
    expect(session.state.conversationId).toBe('c9')
    expect(session.state.messages.map((m) => [m.id, m.role, m.status])).toEqual([['u9', 'user', 'error']])

    // The worker is back: Retry (regenerate) answers that message; start brings its saved copy back as complete.
    const retry = createChatSession({ api: scriptedApi([
      { event: 'start', data: { conversation_id: 'c9', user_message: { ...saved, status: 'complete' } } },
      { event: 'done', data: { conversation_id: 'c9', message: msg({ id: 'a9', content: 'Yes' }) } },
    ]) })
    Object.assign(retry.state, { conversationId: 'c9', messages: [{ ...saved }] })
    expect((await retry.regenerate({ model: 'tiny', params: {} })).ok).toBe(true)
    expect(retry.state.messages.map((m) => [m.id, m.status])).toEqual([['u9', 'complete'], ['a9', 'complete']])
  })

  it('marks a reply as failed when the stream ends without done or error (connection cut)', async () => {
    // The API always ends a stream with done or error (docs/api.md); a stream that just stops was cut off
    // (server killed, proxy timeout) and must not pass for a complete reply.
    const api = scriptedApi([START, { event: 'delta', data: { content: 'Half a sent' } }])
    const session = createChatSession({ api })
    const result = await session.send('hi', { model: 'tiny', params: {} })
    expect(result.ok).toBe(false)
    expect(result.started).toBe(true)
    expect(result.error.message).toMatch(/connection closed before the reply finished/i)
    const [user, reply] = session.state.messages
    expect(user.content).toBe('hi')
    expect([reply.status, reply.content]).toEqual(['error', 'Half a sent'])
    expect(reply.error).toMatch(/connection closed/i)
  })

  it('builds the reply from deltas and takes the saved message from done', async () => {
    const api = scriptedApi([
      START,
      { event: 'delta', data: { content: 'Hel' } },
      { event: 'delta', data: { content: 'lo' } },
      { event: 'done', data: { conversation_id: 'c1', message: msg({ id: 'a1', content: 'Hello', response_time_ms: 42 }) } },
    ])
    const finished = []
    const session = createChatSession({ api, onTurnFinished: (id) => finished.push(id) })
    const result = await session.send('hi', { model: 'tiny', params: { temperature: 0 } })
    expect(result.ok).toBe(true)
    expect(session.state.conversationId).toBe('c1')
    expect(session.state.messages.map((m) => [m.id, m.role, m.content])).toEqual([['u1', 'user', 'hi'], ['a1', 'assistant', 'Hello']])
    expect(session.state.sending).toBe(false)
    expect(finished).toEqual(['c1'])
    expect(api.calls[0].body).toEqual({ message: 'hi', model: 'tiny', params: { temperature: 0 } })
  })

  it('sends the conversation id on the next turn', async () => {
    const api = scriptedApi([START, { event: 'done', data: { message: msg({ id: 'a1' }) } }])
    const session = createChatSession({ api })
    await session.send('one', { model: 'tiny', params: {} })
    await session.send('two', { model: 'tiny', params: {} })
    expect(api.calls[1].body.conversation_id).toBe('c1')
  })

  it('removes a turn the API refused, so the caller can give the text back', async () => {
    const error = new ApiError({ message: 'Too many requests', status: 429 })
    const session = createChatSession({ api: scriptedApi([], { failWith: error }) })
    const result = await session.send('keep me', { model: 'tiny', params: {} })
    expect(result).toMatchObject({ ok: false, started: false, error })
    expect(session.state.messages).toEqual([])
  })

  it('keeps the turn and marks the reply when the model fails mid-stream', async () => {
    const api = scriptedApi([
      START,
      { event: 'delta', data: { content: 'par' } },
      { event: 'error', data: { error: { message: 'worker died', code: 'worker_unavailable' }, conversation_id: 'c1',
        message: msg({ id: 'a1', content: 'par', status: 'error' }) } },
    ])
    const session = createChatSession({ api })
    const result = await session.send('hi', { model: 'tiny', params: {} })
    expect(result).toMatchObject({ ok: false, started: true })
    expect(result.error.message).toBe('worker died')
    const reply = session.state.messages[1]
    expect([reply.content, reply.status]).toEqual(['par', 'error'])
  })

  it('Stop asks the server to stop the reply; its stream ends with the stopped reply', async () => {
    const stops = []
    let finish
    const api = {
      chatStream: async (body, { onEvent }) => {
        onEvent({ event: 'start', data: { ...START.data, message: msg({ id: 7, status: 'streaming' }) }, id: '1' })
        onEvent({ event: 'delta', data: { content: 'partial' }, id: '2' })
        await new Promise((resolve) => { finish = resolve })
        onEvent({ event: 'done', data: { conversation_id: 'c1', message: msg({ id: 7, content: 'partial', status: 'stopped' }) }, id: '3' })
      },
      stopReply: async (id) => {
        stops.push(id)
        finish()
        return msg({ id, status: 'stopped' })
      },
    }
    const session = createChatSession({ api })
    const pending = session.send('hi', { model: 'tiny', params: {} })
    await Promise.resolve()
    expect(session.state.sending).toBe(true)
    session.stop()
    const result = await pending
    expect(stops).toEqual([7])
    expect(result).toMatchObject({ ok: true, stopped: true })
    expect(session.state.messages[1]).toMatchObject({ content: 'partial', status: 'stopped' })
  })

  it('showing another conversation stops following the reply, not the reply', async () => {
    const stops = []
    const api = { ...scriptedApi([START, { event: 'delta', data: { content: 'partial' } }], { hang: true }),
      stopReply: async (id) => stops.push(id) }
    const session = createChatSession({ api })
    const pending = session.send('hi', { model: 'tiny', params: {} })
    await Promise.resolve()
    session.reset()
    expect(await pending).toMatchObject({ ok: true, detached: true })
    expect(stops).toEqual([])
    expect(session.state).toMatchObject({ sending: false, messages: [] })
  })

  it('opening a conversation whose reply is being written follows it on past its saved text (a reload)', async () => {
    const follows = []
    const lengths = []
    let session = null
    const api = {
      followReply: async (id, { lastEventId, shown, onEvent }) => {
        follows.push([id, lastEventId, shown])
        await Promise.resolve() // the server answers later
        const events = [
          // past_shown: the start without an id (its text is behind the page's), the delta reaching past it cut
          { event: 'start', data: { conversation_id: 'c1', message: msg({ id: 2, status: 'streaming' }) } },
          { event: 'delta', data: { content: 'lo' }, id: '6' },
          { event: 'delta', data: { content: ' there' }, id: '7' },
          { event: 'done', data: { conversation_id: 'c1', message: msg({ id: 2, content: 'Hello there' }) }, id: '8' },
        ]
        for (const event of events) {
          onEvent(event)
          lengths.push(session.state.messages[1].content.length)
        }
      },
    }
    const finished = []
    session = createChatSession({ api, onTurnFinished: (id) => finished.push(id) })
    session.apply({ id: 'c1', messages: [msg({ id: 1, role: 'user', content: 'hi' }), msg({ id: 2, content: 'Hel', status: 'streaming' })] })
    expect(session.state.sending).toBe(true) // the composer is locked and offers Stop, as while sending
    expect(session.state.messages[1].content).toBe('Hel') // the saved text stays on screen
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(follows).toEqual([[2, undefined, 3]])
    expect(lengths).toEqual([3, 5, 11, 11]) // never shorter
    expect(session.state.messages[1]).toMatchObject({ content: 'Hello there', status: 'complete' })
    expect([session.state.sending, finished]).toEqual([false, ['c1']])
  })

  it('coming back to a conversation follows its reply on from the text and event the page had', async () => {
    const follows = []
    const api = {
      chatStream: async (body, { signal, onEvent }) => {
        onEvent({ event: 'start', data: { ...START.data, message: msg({ id: 7, status: 'streaming' }) }, id: '1' })
        onEvent({ event: 'delta', data: { content: 'Hello wor' }, id: '2' })
        await new Promise((resolve, reject) => signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))))
      },
      followReply: async (id, { lastEventId, shown, onEvent }) => {
        follows.push([id, lastEventId, shown])
        await Promise.resolve() // the server answers later
        onEvent({ event: 'delta', data: { content: 'ld' }, id: '3' })
        onEvent({ event: 'done', data: { conversation_id: 'c1', message: msg({ id: 7, content: 'Hello world' }) }, id: '4' })
      },
    }
    const session = createChatSession({ api })
    const pending = session.send('hi', { model: 'tiny', params: {} })
    await Promise.resolve()
    session.reset() // another conversation is shown; the reply goes on
    expect(await pending).toMatchObject({ detached: true })
    // back: the server saved less than the page showed; the page's text stays and the stream resumes after event 2
    session.apply({ id: 'c1', messages: [msg({ id: 6, role: 'user', content: 'hi' }), msg({ id: 7, content: 'Hel', status: 'streaming' })] })
    expect(session.state.messages[1].content).toBe('Hello wor')
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(follows).toEqual([[7, '2', undefined]])
    expect(session.state.messages[1]).toMatchObject({ content: 'Hello world', status: 'complete' })
  })

  it('a dropped connection is followed again after the last event it delivered', async () => {
    const follows = []
    const api = {
      chatStream: async (body, { onEvent }) => {
        onEvent({ event: 'start', data: { ...START.data, message: msg({ id: 7, status: 'streaming' }) }, id: '1' })
        onEvent({ event: 'delta', data: { content: 'Hel' }, id: '2' })
        throw new TypeError('network error') // the connection dropped; the server goes on writing
      },
      followReply: async (id, { lastEventId, onEvent }) => {
        follows.push([id, lastEventId])
        onEvent({ event: 'delta', data: { content: 'lo' }, id: '3' })
        onEvent({ event: 'done', data: { conversation_id: 'c1', message: msg({ id: 7, content: 'Hello' }) }, id: '4' })
      },
    }
    const session = createChatSession({ api })
    const result = await session.send('hi', { model: 'tiny', params: {} })
    expect(result.ok).toBe(true)
    expect(follows).toEqual([[7, '2']])
    expect(session.state.messages[1]).toMatchObject({ id: 7, content: 'Hello', status: 'complete' })
  })

  it('regenerate shows the new version in place of the old one, and restores the thread if the API refuses', async () => {
    const api = scriptedApi([START, { event: 'done', data: { message: msg({ id: 1, content: 'first' }) } }])
    const session = createChatSession({ api })
    await session.send('hi', { model: 'tiny', params: {} })

    const again = scriptedApi([{ event: 'start', data: { conversation_id: 'c1', message: msg({ id: 2, sibling_ids: [1, 2], status: 'streaming' }) } },
      { event: 'done', data: { message: msg({ id: 2, content: 'second', sibling_ids: [1, 2] }) } }])
    Object.assign(api, { regenerateStream: again.regenerateStream })
    await session.regenerate({ model: 'tiny', params: {} })
    expect(session.state.messages.map((m) => m.content)).toEqual(['hi', 'second'])
    expect(session.state.messages[1].sibling_ids).toEqual([1, 2])

    api.regenerateStream = scriptedApi([], { failWith: new ApiError({ message: 'busy', status: 503 }) }).regenerateStream
    const result = await session.regenerate({ model: 'tiny', params: {} })
    expect(result.ok).toBe(false)
    expect(session.state.messages.map((m) => m.content)).toEqual(['hi', 'second'])
  })
})

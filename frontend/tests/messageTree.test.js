// The message tree from the session's side: edit = a new branch from the edited message's parent, regenerate
// names the prompt it answers again, Continue extends the same reply, switching versions asks the server for
// the branch, a title event renames the conversation, and a reply after Retry clears "not answered".
import { describe, expect, it } from 'vitest'
import { createChatSession } from '../src/stores/chatSession.js'
import { createSearch } from '../src/stores/search.js'
import { ApiError } from '../src/api/errors.js'

const msg = (over) => ({ role: 'assistant', content: '', model: 'tiny', status: 'complete', sibling_ids: [], ...over })
const branch = () => [
  msg({ id: 1, role: 'user', content: 'first question', parent_id: null, sibling_ids: [1] }),
  msg({ id: 2, content: 'first answer', parent_id: 1, sibling_ids: [2] }),
  msg({ id: 3, role: 'user', content: 'second question', parent_id: 2, sibling_ids: [3] }),
  msg({ id: 4, content: 'second answer', parent_id: 3, sibling_ids: [4], finish_reason: 'length' }),
]

/** Records each call and replays scripted events for it (the session is under test, not the API). */
function fakeApi(script = {}) {
  const calls = []
  const streamer = (kind) => async (...args) => {
    const { signal, onEvent } = args[args.length - 1]
    calls.push({ kind, args: args.slice(0, -1) })
    const step = script[kind]
    if (step instanceof Error) throw step
    for (const e of step || []) onEvent(e)
    if (script.hang === kind) {
      await new Promise((resolve, reject) => signal.addEventListener('abort', () => reject(new DOMException('x', 'AbortError'))))
    }
  }
  return {
    calls,
    chatStream: streamer('chat'),
    regenerateStream: streamer('regenerate'),
    continueStream: streamer('continue'),
    setCurrent: async (id, messageId) => {
      calls.push({ kind: 'current', args: [id, messageId] })
      return script.current
    },
    conversation: async () => script.detail,
  }
}

function openSession(api, extra = {}) {
  const session = createChatSession({ api, ...extra })
  session.apply({ id: 'c1', title: 'T', kind: 'chat', models: ['tiny'], messages: branch() })
  return session
}

describe('message tree', () => {
  it('edit sends the new text with the parent of the edited message and shows the new branch', async () => {
    const api = fakeApi({ chat: [
      { event: 'start', data: { conversation_id: 'c1', user_message: msg({ id: 5, role: 'user', content: 'better question', parent_id: 2, sibling_ids: [3, 5] }),
        message: msg({ id: 6, status: 'streaming', parent_id: 5, sibling_ids: [6] }) } },
      { event: 'delta', data: { content: 'new answer' } },
      { event: 'done', data: { conversation_id: 'c1', message: msg({ id: 6, content: 'new answer', parent_id: 5, sibling_ids: [6], finish_reason: 'stop' }) } },
    ] })
    const session = openSession(api)
    const result = await session.edit(session.state.messages[2], 'better question', { model: 'tiny', params: {} })
    expect(result.ok).toBe(true)
    expect(api.calls[0].args[0]).toEqual({ message: 'better question', model: 'tiny', params: {}, conversation_id: 'c1', parent_id: 2 })
    expect(session.state.messages.map((m) => m.id)).toEqual([1, 2, 5, 6])
    expect(session.state.messages[2].sibling_ids).toEqual([3, 5])
  })

  it('a new message names the reply on screen as its parent; Stop before the server answered is sent when it does', async () => {
    const stops = []
    let answer
    const api = {
      ...fakeApi(),
      chatStream: async (body, { onEvent }) => {
        api.body = body
        await new Promise((resolve) => { answer = resolve })
        onEvent({ event: 'start', data: { conversation_id: 'c1', message: msg({ id: 6, status: 'streaming', parent_id: 5 }) } })
        onEvent({ event: 'done', data: { conversation_id: 'c1', message: msg({ id: 6, status: 'stopped', parent_id: 5 }) } })
      },
      stopReply: async (id) => stops.push(id),
    }
    const session = openSession(api)
    const pending = session.send('next question', { model: 'tiny', params: {} })
    await Promise.resolve()
    expect(api.body.parent_id).toBe(4)
    session.stop()
    expect(stops).toEqual([]) // nothing to name yet
    answer()
    expect(await pending).toMatchObject({ ok: true, started: true, stopped: true })
    expect(stops).toEqual([6])
    expect(session.state.messages.map((m) => [m.id, m.status]).slice(-1)).toEqual([[6, 'stopped']])
  })

  it('editing the first message branches from the root (parent_id null); a refused edit restores the branch', async () => {
    const api = fakeApi({ chat: new ApiError({ message: 'Too many requests', status: 429 }) })
    const session = openSession(api)
    const result = await session.edit(session.state.messages[0], 'other start', { model: 'tiny', params: {} })
    expect(api.calls[0].args[0].parent_id).toBeNull()
    expect(result).toMatchObject({ ok: false, started: false })
    expect(session.state.messages.map((m) => m.id)).toEqual([1, 2, 3, 4])
  })

  it('regenerate of an earlier reply names its prompt and cuts the branch below it on screen', async () => {
    const api = fakeApi({ regenerate: [
      { event: 'start', data: { conversation_id: 'c1', message: msg({ id: 7, status: 'streaming', parent_id: 1, sibling_ids: [2, 7] }) } },
      { event: 'done', data: { message: msg({ id: 7, content: 'another first answer', parent_id: 1, sibling_ids: [2, 7] }) } },
    ] })
    const session = openSession(api)
    await session.regenerate({ model: 'tiny', params: { temperature: 1 }, prompt: session.state.messages[0] })
    expect(api.calls[0].args).toEqual(['c1', { model: 'tiny', params: { temperature: 1 }, message_id: 1 }])
    expect(session.state.messages.map((m) => m.id)).toEqual([1, 7])
  })

  it('Continue appends to the same reply and takes the new finish_reason', async () => {
    const api = fakeApi({ continue: [
      { event: 'start', data: { conversation_id: 'c1', message: msg({ id: 4, content: 'second answer', status: 'streaming' }) } },
      { event: 'delta', data: { content: ' and the rest.' } },
      { event: 'done', data: { message: msg({ id: 4, content: 'second answer and the rest.', finish_reason: 'stop', sibling_ids: [4] }) } },
    ] })
    const session = openSession(api)
    const reply = session.state.messages[3]
    const result = await session.continueReply(reply, { params: { max_tokens: 64, temperature: 0 } })
    expect(result.ok).toBe(true)
    expect(api.calls[0].args).toEqual([4, { params: { max_tokens: 64 } }])
    expect(session.state.messages).toHaveLength(4)
    expect([reply.content, reply.finish_reason, reply.status]).toEqual(['second answer and the rest.', 'stop', 'complete'])
  })

  it('a refused Continue leaves the reply as it was (still cut off)', async () => {
    const api = fakeApi({ continue: new ApiError({ message: 'busy', status: 409 }) })
    const session = openSession(api)
    const reply = session.state.messages[3]
    const result = await session.continueReply(reply, {})
    expect(result.ok).toBe(false)
    expect([reply.status, reply.finish_reason, reply.content]).toEqual(['complete', 'length', 'second answer'])
  })

  it('switching versions shows the branch the server answers', async () => {
    const other = [branch()[0], msg({ id: 7, content: 'another first answer', parent_id: 1, sibling_ids: [2, 7] })]
    const api = fakeApi({ current: { id: 'c1', title: 'T', kind: 'chat', messages: other } })
    const session = openSession(api)
    await session.showVersion(7)
    expect(api.calls).toEqual([{ kind: 'current', args: ['c1', 7] }])
    expect(session.state.messages.map((m) => m.id)).toEqual([1, 7])
  })

  it('takes the title the model wrote (title event) and tells the app', async () => {
    const titles = []
    const api = fakeApi({ chat: [
      { event: 'start', data: { conversation_id: 'n1', user_message: msg({ id: 1, role: 'user', content: 'hi' }) } },
      { event: 'done', data: { conversation_id: 'n1', message: msg({ id: 2, content: 'hello' }) } },
      { event: 'title', data: { conversation_id: 'n1', title: 'Greetings' } },
    ] })
    const session = createChatSession({ api, onTitle: (id, title) => titles.push([id, title]) })
    await session.send('hi', { model: 'tiny', params: {} })
    expect(session.state.title).toBe('Greetings')
    expect(titles).toEqual([['n1', 'Greetings']])
    expect(session.state.models).toEqual(['tiny'])
  })

  it('unlocks the thread when the reply is done, while the stream stays open for the title', async () => {
    let closeStream
    const api = { chatStream: async (body, { onEvent }) => {
      onEvent({ event: 'start', data: { conversation_id: 'n2', user_message: msg({ id: 1, role: 'user', content: 'hi' }) } })
      onEvent({ event: 'done', data: { conversation_id: 'n2', message: msg({ id: 2, content: 'hello' }) } })
      await new Promise((resolve) => (closeStream = resolve))
      onEvent({ event: 'title', data: { conversation_id: 'n2', title: 'Hello there' } })
    } }
    const session = createChatSession({ api })
    const sent = session.send('hi', { model: 'tiny', params: {} })
    await Promise.resolve()
    expect(session.state.sending).toBe(false)
    expect(session.state.messages[1].status).toBe('complete')
    closeStream()
    expect((await sent).ok).toBe(true)
    expect(session.state.title).toBe('Hello there')
  })

  it('a stream still open for its title does not pull a new chat back into the old conversation', async () => {
    let closeStream
    const titles = []
    const api = { chatStream: async (body, { onEvent }) => {
      onEvent({ event: 'start', data: { conversation_id: 'old', user_message: msg({ id: 1, role: 'user', content: 'hi' }) } })
      onEvent({ event: 'done', data: { conversation_id: 'old', message: msg({ id: 2, content: 'hello' }) } })
      await new Promise((resolve) => (closeStream = resolve))
      onEvent({ event: 'title', data: { conversation_id: 'old', title: 'Old title' } })
    } }
    const session = createChatSession({ api, onTitle: (id, t) => titles.push([id, t]) })
    const sent = session.send('hi', { model: 'tiny', params: {} })
    await Promise.resolve()
    session.reset() // New chat while the title is still being written
    closeStream()
    await sent
    expect([session.state.conversationId, session.state.title, session.state.messages]).toEqual([null, '', []])
    expect(titles).toEqual([['old', 'Old title']]) // the history list still gets it
  })

  it('a successful Retry marks the unanswered message answered even if the start copy still said error', async () => {
    const saved = msg({ id: 9, role: 'user', content: 'Still there?', status: 'error' })
    const api = fakeApi({ regenerate: [
      { event: 'start', data: { conversation_id: 'c9', user_message: { ...saved } } },
      { event: 'done', data: { message: msg({ id: 10, content: 'Yes' }) } },
    ] })
    const session = createChatSession({ api })
    session.apply({ id: 'c9', messages: [{ ...saved }] })
    await session.regenerate({ model: 'tiny', params: {} })
    expect(session.state.messages.map((m) => [m.id, m.status])).toEqual([[9, 'complete'], [10, 'complete']])
  })

  it('a compare column sends its column number', async () => {
    const api = fakeApi({ chat: [{ event: 'start', data: { conversation_id: 'x' } }, { event: 'done', data: { message: msg({ id: 1 }) } }] })
    const column = createChatSession({ api, column: 1 })
    column.apply({ id: 'x', kind: 'compare', columns: [{ model: 'a', messages: [] }, { model: 'b', messages: [] }], messages: [] })
    await column.send('hi', { model: 'b', params: {} })
    expect(api.calls[0].args[0]).toMatchObject({ column: 1, model: 'b', conversation_id: 'x' })
  })
})

describe('search store', () => {
  it('waits for a pause in typing, asks once, and drops an answer that arrives after a newer query', async () => {
    const asked = []
    const answers = {}
    const api = { search: (q) => { asked.push(q); return new Promise((resolve) => (answers[q] = resolve)) } }
    const search = createSearch({ api, delayMs: 5 })
    search.setQuery('pa')
    search.setQuery('par')
    await new Promise((r) => setTimeout(r, 20))
    expect(asked).toEqual(['par'])
    search.setQuery('paris')
    await new Promise((r) => setTimeout(r, 20))
    answers.paris([{ message_id: 2 }])
    await Promise.resolve()
    answers.par([{ message_id: 1 }]) // late answer to an older query
    await new Promise((r) => setTimeout(r, 0))
    expect(search.state.results).toEqual([{ message_id: 2 }])
    expect(search.state.searched).toBe('paris')
    search.clear()
    expect(search.state.results).toEqual([])
  })
})

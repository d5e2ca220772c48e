// Compare votes: the latest pair of replies, when it can be voted on (and why not), one vote per pair (voting
// again replaces it), and a blind session: created without models, its columns never name a model, and the
// first vote reveals both.
import { afterEach, describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import VoteBar from '../src/components/VoteBar.vue'
import CompareColumn from '../src/components/CompareColumn.vue'
import { createCompareSession } from '../src/stores/compareSession.js'
import { latestPair, votable } from '../src/stores/compareVotes.js'
import { appState, provideApp, settle } from './support/appState.js'

const user = (id, content = 'Which is bigger, 3 or 5?') => ({ id, role: 'user', content, status: 'complete', sibling_ids: [id] })
const answer = (id, over = {}) => ({ id, role: 'assistant', content: `reply ${id}`, status: 'complete', model: null, sibling_ids: [id], ...over })
const hiddenDetail = (over = {}) => ({ id: 'cmp', kind: 'compare', blind: true, revealed: false, models: [null, null], messages: [],
  columns: [{ model: null, messages: [user(1), answer(2)] }, { model: null, messages: [user(3), answer(4)] }], ...over })
const revealedDetail = () => hiddenDetail({ revealed: true, models: ['tiny-chat', 'tiny-lora'], columns: [
  { model: 'tiny-chat', messages: [user(1), answer(2, { model: 'tiny-chat' })] },
  { model: 'tiny-lora', messages: [user(3), answer(4, { model: 'tiny-lora' })] }] })

/** A stand-in for the compare endpoints: conversation detail (hidden until a vote), votes, streamed chat. */
function compareApi() {
  const calls = { created: [], chat: [], votes: [] }
  let voted = false
  return {
    calls,
    createConversation: async (body) => {
      calls.created.push(body)
      return hiddenDetail({ columns: [{ model: null, messages: [] }, { model: null, messages: [] }] })
    },
    conversation: async () => (voted ? revealedDetail() : hiddenDetail()),
    chatStream: async (body, { onEvent }) => {
      calls.chat.push(body)
      const n = calls.chat.length * 10
      onEvent({ event: 'start', data: { conversation_id: 'cmp', user_message: user(n), message: answer(n + 1, { status: 'streaming' }) } })
      onEvent({ event: 'done', data: { conversation_id: 'cmp', message: answer(n + 1) } })
    },
    vote: async (body) => {
      calls.votes.push(body)
      voted = true
      return { id: calls.votes.length, conversation_id: 'cmp', prompt: 'Which is bigger, 3 or 5?', winner: body.winner,
        left: { message_id: body.left_message_id, model: 'tiny-chat', content: 'reply 2' },
        right: { message_id: body.right_message_id, model: 'tiny-lora', content: 'reply 4' }, created_at: 'now' }
    },
  }
}

afterEach(() => {
  document.body.innerHTML = ''
})

describe('the pair to vote on', () => {
  it('is the last reply of each column, votable only when both are complete answers to the same prompt', () => {
    expect(latestPair([user(1)], [user(3), answer(4)])).toBeNull()
    const pair = latestPair([user(1), answer(2)], [user(3), answer(4)])
    expect([pair.left.id, pair.right.id]).toEqual([2, 4])
    expect(votable(pair)).toEqual({ ok: true, reason: '' })
    expect(votable(pair, { sending: true }).reason).toMatch(/both replies have finished/)
    expect(votable(latestPair([user(1), answer(2, { status: 'streaming' })], [user(3), answer(4)])).ok).toBe(false)
    expect(votable(latestPair([user(1), answer(2, { status: 'stopped' })], [user(3), answer(4)])).reason).toMatch(/did not finish/)
    expect(votable(latestPair([user(1), answer(2)], [user(3, 'other'), answer(4)])).reason).toMatch(/different prompts/)
  })
})

describe('a blind compare session', () => {
  it('is created without models, sends no model, and the first vote reveals both', async () => {
    const api = compareApi()
    const compare = createCompareSession({ api })
    await compare.send('Which is bigger, 3 or 5?', [{ params: { max_tokens: 9 } }, { params: undefined }], { blind: true })
    expect(api.calls.created).toEqual([{ kind: 'compare', blind: true }])
    expect(api.calls.chat.map((b) => [b.column, 'model' in b])).toEqual([[0, false], [1, false]])
    expect(compare.hidden()).toBe(true)
    expect(compare.state.models).toEqual([null, null])

    await compare.open(null)
    await compare.open('cmp')
    const vote = await compare.vote('left')
    expect(api.calls.votes).toEqual([{ left_message_id: 2, right_message_id: 4, winner: 'left' }])
    expect(vote.left.model).toBe('tiny-chat')
    expect(compare.hidden()).toBe(false)
    expect(compare.state.models).toEqual(['tiny-chat', 'tiny-lora'])
    expect(compare.columns[1].state.messages[1].model).toBe('tiny-lora')
    expect(compare.votes.find(compare.latestPair()).winner).toBe('left')

    await compare.vote('tie') // voting again on the pair replaces the vote
    expect(compare.votes.state.items.map((v) => v.winner)).toEqual(['tie'])
  })

  it('a session left right after its vote stays left (the late re-read does not bring it back)', async () => {
    const api = compareApi()
    let release
    const conversation = api.conversation
    const compare = createCompareSession({ api })
    await compare.open('cmp')
    api.conversation = () => new Promise((resolve) => (release = () => resolve(conversation())))
    const voting = compare.vote('left')
    await new Promise((resolve) => setTimeout(resolve, 0))
    compare.reset() // "New comparison" while the session is re-read
    release()
    await voting
    expect(compare.state.conversationId).toBeNull()
    expect(compare.columns[0].state.messages).toEqual([])
  })

  it('a named session is created with its two models', async () => {
    const api = compareApi()
    const compare = createCompareSession({ api })
    await compare.send('hi', [{ model: 'a', params: {} }, { model: 'b', params: {} }])
    expect(api.calls.created).toEqual([{ kind: 'compare', models: ['a', 'b'] }])
    expect(api.calls.chat.map((b) => b.model)).toEqual(['a', 'b'])
  })
})

describe('VoteBar', () => {
  it('keeps the vote closed until both replies are complete, then names the models after a blind vote', async () => {
    const app = appState(compareApi())
    await app.compare.open('cmp')
    app.compare.columns[1].state.messages[1].status = 'streaming'
    const wrapper = mount(VoteBar, { ...provideApp(app) })
    await settle()
    const buttons = () => ['left', 'tie', 'both_bad', 'right'].map((w) => wrapper.get(`[data-testid="vote-${w}"]`))
    expect(buttons().every((b) => b.attributes('disabled') !== undefined)).toBe(true)
    expect(wrapper.get('[data-testid="vote-status"]').text()).toMatch(/opens when both replies have finished/)

    app.compare.columns[1].state.messages[1].status = 'complete'
    await settle()
    expect(buttons().map((b) => b.attributes('disabled'))).toEqual([undefined, undefined, undefined, undefined])
    expect(wrapper.get('[data-testid="vote-status"]').text()).toBe('The models are hidden until you vote.')
    await wrapper.get('[data-testid="vote-right"]').trigger('click')
    await settle()
    expect(wrapper.get('[data-testid="vote-right"]').attributes('aria-pressed')).toBe('true')
    expect(wrapper.get('[data-testid="vote-left"]').attributes('aria-pressed')).toBe('false')
    expect(wrapper.get('[data-testid="vote-status"]').text())
      .toBe('Your vote: B is better. Model A is tiny-chat, Model B is tiny-lora. Vote again to change it.')
  })

  it('a hidden column says so instead of naming its model', async () => {
    const app = appState(compareApi())
    await app.compare.open('cmp')
    const props = { side: 'left', label: 'Model A', session: app.compare.columns[0], modelValue: '', locked: true, hidden: true }
    const wrapper = mount(CompareColumn, { props, ...provideApp(app) })
    expect(wrapper.get('[data-testid="hidden-model"]').text()).toContain('hidden')
    expect(wrapper.get('section').attributes('aria-label')).toBe('Model A: hidden')
  })
})

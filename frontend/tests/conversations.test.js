// The history list: while a conversation has a reply being written ("answering…", perhaps one the page left),
// the list is read again until no conversation is answering.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ANSWERING_POLL_MS, createConversations } from '../src/stores/conversations.js'

afterEach(() => vi.useRealTimers())

describe('conversations', () => {
  it('reads the list again while a reply is being written, and stops once none is', async () => {
    vi.useFakeTimers()
    const answers = [
      [{ id: 'a', answering: true }, { id: 'b', answering: false }],
      [{ id: 'a', answering: true }, { id: 'b', answering: false }],
      [{ id: 'a', answering: false }, { id: 'b', answering: false }],
    ]
    let calls = 0
    const list = createConversations({ api: { conversations: async () => answers[Math.min(calls++, answers.length - 1)] } })
    await list.load()
    expect(list.find('a').answering).toBe(true)
    await vi.advanceTimersByTimeAsync(ANSWERING_POLL_MS)
    expect(calls).toBe(2)
    await vi.advanceTimersByTimeAsync(ANSWERING_POLL_MS)
    expect([calls, list.find('a').answering]).toEqual([3, false])
    await vi.advanceTimersByTimeAsync(ANSWERING_POLL_MS * 3)
    expect(calls).toBe(3) // nothing is answering: no more reads
  })
})

// A model-written title comes after the reply, in the background: while the list has one pending, the list is read
// again with growing waits, and the new title replaces the first line without a reload.
import { describe, expect, it } from 'vitest'
import { fakeTimers } from './support/fakeTimers.js'
import { TITLE_WAITS_MS, createConversations } from '../src/stores/conversations.js'

const entry = (title, pending) => ({ id: 'c1', title, title_pending: pending })

describe('conversations: titles written later', () => {
  it('reads the list again while a title is pending, then stops', async () => {
    const answers = [[entry('first line', true)], [entry('first line', true)], [entry('Fruit names', false)]]
    const timers = fakeTimers()
    const conversations = createConversations({ api: { conversations: async () => answers.shift() }, timers })
    await conversations.load()
    expect(timers.planned.map((p) => p.ms)).toEqual([TITLE_WAITS_MS[0]])
    await timers.fireNext()
    expect(timers.planned.map((p) => p.ms)).toEqual([TITLE_WAITS_MS[1]]) // the waits grow
    await timers.fireNext()
    expect(conversations.find('c1').title).toBe('Fruit names')
    expect(timers.planned).toEqual([]) // nothing pending: no more reads
  })

  it('gives up after the last wait, and follows the next pending title from the start', async () => {
    let answer = [entry('first line', true)]
    const timers = fakeTimers()
    const conversations = createConversations({ api: { conversations: async () => answer }, timers })
    await conversations.load()
    for (let i = 0; i < TITLE_WAITS_MS.length; i += 1) await timers.fireNext()
    expect(timers.planned).toEqual([]) // a title that never comes (its API process went away) is not read forever
    answer = [{ id: 'c2', title: 'other', title_pending: true }, entry('first line', true)]
    await conversations.load()
    expect(timers.planned.map((p) => p.ms)).toEqual([TITLE_WAITS_MS[0]])
  })
})

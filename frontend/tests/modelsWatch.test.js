// A page opened while no model server answers keeps asking for the models by itself, with growing waits, and
// hands them over once they are there.
import { describe, expect, it } from 'vitest'
import { fakeTimers } from './support/fakeTimers.js'
import { RETRY_DELAYS_MS, createModels } from '../src/stores/models.js'

describe('models.watch', () => {
  it('retries after an error with growing waits, then gives the models to the caller once', async () => {
    const answers = [new Error('down'), new Error('down'), [], [{ id: 'tiny' }]]
    const api = { models: async () => {
      const next = answers.shift()
      if (next instanceof Error) throw Object.assign(next, { response: { status: 503, data: { error: { message: 'no model server' } }, headers: {} } })
      return next
    } }
    const timers = fakeTimers()
    const models = createModels({ api, timers })
    const given = []
    await models.watch((items) => given.push(items.map((m) => m.id)))
    expect(models.state.error).toContain('no model server')
    expect(timers.planned.map((t) => t.ms)).toEqual([RETRY_DELAYS_MS[0]])
    expect(models.state.retryIn).toBe(RETRY_DELAYS_MS[0] / 1000)
    await timers.fireNext()
    expect(timers.planned.map((t) => t.ms)).toEqual([RETRY_DELAYS_MS[1]])
    await timers.fireNext() // answers, but with no model yet: still asking
    expect(models.state.error).toBe(null)
    expect(timers.planned.map((t) => t.ms)).toEqual([RETRY_DELAYS_MS[2]])
    await timers.fireNext()
    expect(given).toEqual([['tiny']])
    expect(models.state.retryIn).toBe(null)
    expect(timers.planned).toEqual([])
  })
})

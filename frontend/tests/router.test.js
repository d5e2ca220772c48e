// Hash routes and the small display helpers.
import { describe, expect, it } from 'vitest'
import { parseHash } from '../src/stores/router.js'
import { formatDuration, formatTokens, relativeTime } from '../src/lib/format.js'
import { describeModel } from '../src/stores/models.js'

describe('parseHash', () => {
  it('reads a conversation id, the compare view, or a new chat', () => {
    expect(parseHash('#/c/abc-123')).toEqual({ view: 'chat', conversationId: 'abc-123' })
    expect(parseHash('#/c/a%20b')).toEqual({ view: 'chat', conversationId: 'a b' })
    expect(parseHash('#/compare')).toEqual({ view: 'compare', conversationId: null })
    expect(parseHash('')).toEqual({ view: 'chat', conversationId: null })
    expect(parseHash('#/nonsense')).toEqual({ view: 'chat', conversationId: null })
  })
})

describe('format helpers', () => {
  it('shows durations in ms below a second, else in seconds', () => {
    expect(formatDuration(250)).toBe('250 ms')
    expect(formatDuration(1530)).toBe('1.5 s')
    expect(formatDuration(null)).toBe('')
  })

  it('shows completion tokens only when known', () => {
    expect(formatTokens({ prompt_tokens: 10, completion_tokens: 42 })).toBe('42 tokens')
    expect(formatTokens(null)).toBe('')
  })

  it('says how long ago', () => {
    const now = Date.parse('2026-01-10T12:00:00Z')
    expect(relativeTime('2026-01-10T11:59:50Z', now)).toBe('just now')
    expect(relativeTime('2026-01-10T11:30:00Z', now)).toBe('30 min ago')
    expect(relativeTime('2026-01-10T07:00:00Z', now)).toBe('5 h ago')
    expect(relativeTime('2026-01-08T12:00:00Z', now)).toBe('2 d ago')
    expect(relativeTime('not a date', now)).toBe('')
  })

  it('describes a model by kind, prompt style and context', () => {
    const model = { id: 'm', kind: 'lora', prompt_style: 'alpaca', context_length: 8192 }
    expect(describeModel(model)).toBe('lora · alpaca prompt · 8k ctx')
    expect(describeModel(model, { kind: false })).toBe('alpaca prompt · 8k ctx')
  })
})

// Hash routes and the small display helpers.
import { describe, expect, it } from 'vitest'
import { parseHash } from '../src/stores/router.js'
import { formatDuration, formatTokens, plural, relativeTime } from '../src/lib/format.js'
import { defaultComparePair, describeModel, newestRun } from '../src/stores/models.js'
import { matchShortcut } from '../src/lib/shortcuts.js'

describe('parseHash', () => {
  it('reads a conversation id, the compare view, the leaderboard, or a new chat', () => {
    expect(parseHash('#/leaderboard')).toEqual({ view: 'leaderboard', conversationId: null, badLink: null })
    expect(parseHash('#/account')).toEqual({ view: 'account', conversationId: null, badLink: null })
    expect(parseHash('#/admin')).toEqual({ view: 'admin', conversationId: null, badLink: null })
    expect(parseHash('#/data')).toEqual({ view: 'data', conversationId: null, badLink: null })
    expect(parseHash('#/c/abc-123')).toEqual({ view: 'chat', conversationId: 'abc-123', badLink: null })
    expect(parseHash('#/c/a%20b')).toEqual({ view: 'chat', conversationId: 'a b', badLink: null })
    expect(parseHash('#/compare')).toEqual({ view: 'compare', conversationId: null, badLink: null })
    expect(parseHash('#/compare/x1')).toEqual({ view: 'compare', conversationId: 'x1', badLink: null })
    expect(parseHash('')).toEqual({ view: 'chat', conversationId: null, badLink: null })
    expect(parseHash('#/')).toEqual({ view: 'chat', conversationId: null, badLink: null })
  })

  it('answers a link it cannot read with badLink instead of throwing (URIError)', () => {
    expect(parseHash('#/c/%')).toEqual({ view: 'chat', conversationId: null, badLink: '#/c/%' })
    expect(parseHash('#/c/%E0%A4')).toMatchObject({ conversationId: null, badLink: '#/c/%E0%A4' })
    expect(parseHash('#/c/%20')).toMatchObject({ conversationId: null, badLink: '#/c/%20' })
    expect(parseHash('#/nonsense')).toMatchObject({ view: 'chat', conversationId: null, badLink: '#/nonsense' })
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
    expect(formatTokens({ completion_tokens: 1 })).toBe('1 token')
    expect(formatTokens({ completion_tokens: 0 })).toBe('0 tokens')
    expect(plural(1234, 'character')).toBe('1,234 characters')
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

describe('compare default pair', () => {
  const chat = { id: 'chat', kind: 'chat' }
  const base = { id: 'base', kind: 'base' }
  it('is the chat model against the newest fine-tuned run', () => {
    const old = { id: 'lora-old', kind: 'lora', origin: 'runs', created: '2026-01-01T00:00:00Z' }
    const fresh = { id: 'alpaca-new', kind: 'alpaca', origin: 'runs', created: '2026-02-01T00:00:00Z' }
    const adapter = { id: 'adapter', kind: 'lora', origin: 'adapters' }
    expect(newestRun([base, chat, fresh, adapter, old]).id).toBe('alpaca-new')
    expect(defaultComparePair([base, chat, old, fresh])).toEqual(['chat', 'alpaca-new'])
  })
  it('takes the last fine-tuned model when the API does not say where models come from, else the second model', () => {
    expect(defaultComparePair([base, chat, { id: 'l1', kind: 'lora' }, { id: 'l2', kind: 'lora' }])).toEqual(['chat', 'l2'])
    expect(defaultComparePair([chat, base])).toEqual(['chat', 'base'])
    expect(defaultComparePair([base])).toEqual(['base', 'base'])
    expect(defaultComparePair([])).toEqual(['', ''])
  })
})

describe('keyboard shortcuts', () => {
  const key = (over) => ({ key: '', ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, target: document.body, ...over })
  it('knows the ChatGPT-style shortcuts (Ctrl or Cmd)', () => {
    expect(matchShortcut(key({ key: 'O', ctrlKey: true, shiftKey: true }))).toBe('new-chat')
    expect(matchShortcut(key({ key: 'o', metaKey: true, shiftKey: true }))).toBe('new-chat')
    expect(matchShortcut(key({ key: 'C', ctrlKey: true, shiftKey: true }))).toBe('copy-last')
    expect(matchShortcut(key({ key: 'Escape', shiftKey: true }))).toBe('focus-composer')
    expect(matchShortcut(key({ key: 'k', ctrlKey: true }))).toBe('search')
    expect(matchShortcut(key({ key: '/', ctrlKey: true }))).toBe('help')
    expect(matchShortcut(key({ key: '?', shiftKey: true }))).toBe('help')
    expect(matchShortcut(key({ key: 'Escape' }))).toBe('stop')
    expect(matchShortcut(key({ key: 'c', ctrlKey: true }))).toBeNull() // plain copy stays the browser's
  })
  it('leaves plain keys to a field being typed in', () => {
    const box = document.createElement('textarea')
    expect(matchShortcut(key({ key: '?', shiftKey: true, target: box }))).toBeNull()
    expect(matchShortcut(key({ key: 'Escape', target: box }))).toBeNull()
    expect(matchShortcut(key({ key: 'Escape', shiftKey: true, target: box }))).toBe('focus-composer')
  })
})

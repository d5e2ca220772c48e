// The settings store: model defaults, per-model changes, persistence, reset.
import { describe, expect, it } from 'vitest'
import { FALLBACK_PARAMS, SETTINGS_KEY, createSettingsStore } from '../src/stores/settings.js'
import { memoryStorage } from '../src/lib/storage.js'
import { describeRange, limitsFromApi } from '../src/stores/limits.js'

const base = { id: 'base', kind: 'base', default_params: { temperature: 0.2, top_p: 0.9, max_tokens: 64, memory_window: 2, system_prompt: '' } }
const lora = { id: 'lora', kind: 'lora', default_params: { temperature: 0.8 } }

describe('settings store', () => {
  it('starts from the selected model\'s defaults and falls back for missing ones', () => {
    const store = createSettingsStore(memoryStorage())
    expect(store.paramsFor(base)).toEqual(base.default_params)
    expect(store.paramsFor(lora)).toEqual({ ...FALLBACK_PARAMS, temperature: 0.8 })
  })

  it('keeps changes per model and persists them across a reload', () => {
    const storage = memoryStorage()
    const store = createSettingsStore(storage)
    store.selectModel('base')
    store.setParam(base, 'temperature', '1.1')
    store.setParam(base, 'system_prompt', 'Be brief.')
    expect(store.paramsFor(lora).temperature).toBe(0.8)

    const reloaded = createSettingsStore(storage)
    expect(reloaded.state.model).toBe('base')
    expect(reloaded.paramsFor(base)).toMatchObject({ temperature: 1.1, system_prompt: 'Be brief.', top_p: 0.9 })
    expect(JSON.parse(storage.getItem(SETTINGS_KEY)).overrides.base.temperature).toBe(1.1)
  })

  it('corrects out-of-range values and says so, with the allowed range', () => {
    const store = createSettingsStore(memoryStorage())
    expect(store.setParam(base, 'temperature', '9')).toEqual({ value: 2, note: '9 is above the maximum: set to 2 (allowed 0–2).' })
    expect(store.setParam(base, 'max_tokens', '99999').note).toBe('99999 is above the maximum: set to 4096 (allowed 1–4096).')
    expect(store.setParam(base, 'max_tokens', '12.7').note).toBe('12.7 is not a whole number: set to 13 (allowed 1–4096).')
    expect(store.setParam(base, 'memory_window', '-3').note).toMatch(/^-3 is below the minimum: set to 0/)
    expect(store.setParam(base, 'top_p', '0').note).toBe('0 is below the minimum: set to 0.05 (allowed more than 0, up to 1).')
    expect(store.setParam(base, 'top_p', 'abc')).toMatchObject({ value: null })
    expect(store.setParam(base, 'top_p', '0.5')).toEqual({ value: 0.5, note: '' })
    expect(store.paramsFor(base)).toMatchObject({ temperature: 2, max_tokens: 13, memory_window: 0, top_p: 0.5 })
  })

  it('uses the ranges the API sends (GET /api/limits)', () => {
    const limits = limitsFromApi({ max_message_chars: 500, params: { max_tokens: { minimum: 1, maximum: 512 },
      memory_window: { minimum: 0, maximum: 100 }, top_p: { exclusiveMinimum: 0, maximum: 1 } } })
    expect(limits.maxMessageChars).toBe(500)
    const store = createSettingsStore(memoryStorage(), (key) => limits.params[key])
    expect(store.setParam(base, 'max_tokens', 600).note).toBe('600 is above the maximum: set to 512 (allowed 1–512).')
    expect(store.setParam(base, 'memory_window', 80)).toEqual({ value: 80, note: '' })
    expect(describeRange(limits.params.temperature)).toBe('0–2') // not sent: the fallback stays
    expect(limitsFromApi(null).maxMessageChars).toBe(8000)
  })

  it('cuts an over-long system prompt and says so', () => {
    const store = createSettingsStore(memoryStorage())
    const { value, note } = store.setParam(base, 'system_prompt', 'x'.repeat(8001))
    expect([value.length, note]).toEqual([8000, 'Cut to 8,000 characters, the most allowed.'])
  })

  it('resets a model to its defaults', () => {
    const store = createSettingsStore(memoryStorage())
    store.setParam(base, 'max_tokens', 300)
    expect(store.isCustomised(base)).toBe(true)
    store.resetParams(base)
    expect(store.isCustomised(base)).toBe(false)
    expect(store.paramsFor(base).max_tokens).toBe(64)
  })

  it('keeps a saved model only while the server still offers it', () => {
    const storage = memoryStorage()
    storage.setItem(SETTINGS_KEY, JSON.stringify({ model: 'lora', compare: { left: 'gone', chosen: true } }))
    const store = createSettingsStore(storage)
    store.ensureModel([base, lora])
    expect(store.state.model).toBe('lora')
    expect(store.state.compare).toEqual({ left: 'base', right: 'lora', chosen: false, blind: false })
    store.ensureModel([base])
    expect(store.state.model).toBe('base')
  })

  it('compare follows the default pair (chat model vs newest run) until the person picks one', () => {
    const chat = { id: 'chat', kind: 'chat' }
    const store = createSettingsStore(memoryStorage())
    store.ensureModel([base, chat, lora])
    expect(store.state.compare).toMatchObject({ left: 'chat', right: 'lora', chosen: false })
    const newer = { id: 'lora-2', kind: 'lora' }
    store.ensureModel([base, chat, lora, newer])
    expect(store.state.compare.right).toBe('lora-2') // a new run shows up by itself
    store.chooseCompareModel('right', 'base')
    store.ensureModel([base, chat, lora, newer])
    expect(store.state.compare).toMatchObject({ left: 'chat', right: 'base', chosen: true })
  })

  it('remembers the blind choice (two random models) across reloads, whatever the pair does', () => {
    const storage = memoryStorage()
    const store = createSettingsStore(storage)
    store.setCompareBlind(true)
    const again = createSettingsStore(storage)
    again.ensureModel([base, lora])
    expect(again.state.compare.blind).toBe(true)
    again.setCompareBlind(false)
    expect(createSettingsStore(storage).state.compare.blind).toBe(false)
  })

  it('survives corrupt storage', () => {
    const storage = memoryStorage()
    storage.setItem(SETTINGS_KEY, '{not json')
    const store = createSettingsStore(storage)
    expect(store.state.model).toBe('')
    expect(store.state.theme).toBe('auto')
  })
})

// The settings store: model defaults, per-model changes, persistence, reset.
import { describe, expect, it } from 'vitest'
import { FALLBACK_PARAMS, SETTINGS_KEY, createSettingsStore } from '../src/stores/settings.js'
import { memoryStorage } from '../src/lib/storage.js'

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

  it('clamps values, rounds integers and ignores non-numbers', () => {
    const store = createSettingsStore(memoryStorage())
    store.setParam(base, 'temperature', '9')
    store.setParam(base, 'max_tokens', '12.7')
    store.setParam(base, 'memory_window', '-3')
    store.setParam(base, 'top_p', 'abc')
    expect(store.paramsFor(base)).toMatchObject({ temperature: 2, max_tokens: 13, memory_window: 0, top_p: 0.9 })
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
    storage.setItem(SETTINGS_KEY, JSON.stringify({ model: 'lora', compare: { left: 'gone' } }))
    const store = createSettingsStore(storage)
    store.ensureModel([base, lora])
    expect(store.state.model).toBe('lora')
    expect(store.state.compare).toEqual({ left: 'base', right: 'lora' })
    store.ensureModel([base])
    expect(store.state.model).toBe('base')
  })

  it('survives corrupt storage', () => {
    const storage = memoryStorage()
    storage.setItem(SETTINGS_KEY, '{not json')
    const store = createSettingsStore(storage)
    expect(store.state.model).toBe('')
    expect(store.state.theme).toBe('auto')
  })
})

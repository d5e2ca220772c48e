// A model the worker has not loaded yet: the picker says "not loaded" / "loading…", and a reply to it says
// "Loading <model>…" until its first token instead of looking hung while the model loads.
import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { reactive } from 'vue'
import ModelPicker from '../src/components/ModelPicker.vue'
import MessageItem from '../src/components/MessageItem.vue'
import { createChatSession } from '../src/stores/chatSession.js'
import { createModels, loadHint } from '../src/stores/models.js'
import { appState, provideApp, settle } from './support/appState.js'

const model = (id, over) => ({ id, kind: 'chat', prompt_style: 'chat', context_length: 2048, ...over })
const LISTED = [
  model('warm', { loaded: true, loading: false }),
  model('cold', { loaded: false, loading: false }),
  model('coming', { loaded: false, loading: true }),
  model('elsewhere', { loaded: null, loading: false }), // a server that does not say
]

describe('models that load on demand', () => {
  it('hints only at models a server says are not loaded', () => {
    expect(LISTED.map(loadHint)).toEqual(['', 'not loaded', 'loading…', ''])
    expect(loadHint(null)).toBe('')
  })

  it('marks them in the picker, options and the selected one', async () => {
    const app = appState({ models: async () => LISTED })
    await app.models.load()
    const wrapper = mount(ModelPicker, { props: { id: 'model', modelValue: 'cold' }, ...provideApp(app) })
    const options = wrapper.findAll('option').map((option) => option.text())
    expect(options).toEqual([
      'warm — chat · chat',
      'cold — chat · chat (not loaded)',
      'coming — chat · chat (loading…)',
      'elsewhere — chat · chat',
    ])
    expect(wrapper.get('[data-testid="model-load-state"]').text()).toBe('not loaded')
    await wrapper.setProps({ modelValue: 'warm' })
    expect(wrapper.find('[data-testid="model-load-state"]').exists()).toBe(false)
  })

  it('asks again quietly when the picker opens, at most every few seconds, and after a reply always', async () => {
    let now = 0
    let calls = 0
    const lists = [LISTED, LISTED.map((m) => ({ ...m, loaded: true, loading: false }))]
    const models = createModels({ api: { models: async () => lists[Math.min(calls++, 1)] }, clock: () => now })
    await models.load()
    expect(models.needsLoad('cold')).toBe(true)
    now = 1000
    await models.refresh()
    expect(calls).toBe(1) // too soon after the last answer
    await models.refresh({ force: true })
    expect(calls).toBe(2)
    expect(models.needsLoad('cold')).toBe(false)
    expect(models.state.loading).toBe(false)
  })

  it('says the model is loading in the pending reply until the first token', async () => {
    let deliver
    const api = {
      chatStream: async (body, { onEvent }) => {
        await new Promise((resolve) => (deliver = resolve))
        onEvent({ event: 'start', data: { conversation_id: 'c1', message: { id: 5, role: 'assistant', content: '' } } })
        onEvent({ event: 'delta', data: { content: 'Hi' } })
        onEvent({ event: 'done', data: { conversation_id: 'c1', message: { id: 5, content: 'Hi', status: 'complete' } } })
      },
    }
    const session = createChatSession({ api, needsLoad: (id) => id === 'cold' })
    const sent = session.send('hello', { model: 'cold', params: {} })
    await settle()
    const reply = session.state.messages[1]
    const wrapper = mount(MessageItem, { props: { message: reply } })
    expect(wrapper.get('[data-testid="loading-model"]').text()).toContain('Loading cold…')
    expect(wrapper.find('.typing').exists()).toBe(false)
    deliver()
    expect((await sent).ok).toBe(true)
    await settle()
    expect(wrapper.find('[data-testid="loading-model"]').exists()).toBe(false)
    expect(wrapper.text()).toContain('Hi')

    // a loaded model's pending reply shows the usual typing dots
    const warm = mount(MessageItem, {
      props: { message: reactive({ id: 't', role: 'assistant', content: '', model: 'warm', status: 'streaming' }) },
    })
    expect(warm.find('[data-testid="loading-model"]').exists()).toBe(false)
    expect(warm.find('.typing').exists()).toBe(true)
  })
})

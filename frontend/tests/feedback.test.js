// Feedback on replies: thumbs (pressed state, pressing again takes it back), the better answer (save, edit,
// remove), both fields always sent, and a refusal puts back what was saved.
import { afterEach, describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { reactive } from 'vue'
import MessageItem from '../src/components/MessageItem.vue'
import { createFeedback } from '../src/stores/feedback.js'
import { ApiError } from '../src/api/errors.js'
import { appState, provideApp, settle } from './support/appState.js'

/** A stand-in for PUT /api/messages/{id}/feedback that answers like the API (or refuses with `fail`). */
function feedbackApi({ fail = null } = {}) {
  const calls = []
  return {
    calls,
    setFeedback: async (id, body) => {
      calls.push([id, body])
      if (fail) throw fail
      const cleared = body.rating === null && !body.correction
      return { id, feedback: cleared ? null : { rating: body.rating, correction: body.correction || null, updated_at: 'now' } }
    },
  }
}
const reply = (over = {}) => reactive({ id: 7, role: 'assistant', content: 'Paris is the capital.', status: 'complete',
  finish_reason: 'stop', model: 'tiny', sibling_ids: [7], feedback: null, ...over })

afterEach(() => {
  document.body.innerHTML = ''
})

describe('feedback store', () => {
  it('rates, takes the rating back on a second press, and always sends both fields', async () => {
    const api = feedbackApi()
    const feedback = createFeedback({ api })
    const message = reply({ feedback: { rating: null, correction: 'Paris.', updated_at: 'x' } })
    await feedback.rate(message, 'up')
    expect(message.feedback).toMatchObject({ rating: 'up', correction: 'Paris.' })
    await feedback.rate(message, 'up')
    expect(message.feedback).toMatchObject({ rating: null, correction: 'Paris.' })
    await feedback.rate(message, 'down')
    expect(api.calls.map(([, body]) => body)).toEqual([
      { rating: 'up', correction: 'Paris.' }, { rating: null, correction: 'Paris.' }, { rating: 'down', correction: 'Paris.' }])
  })

  it('trims a better answer; empty text removes it (and nothing left clears the feedback)', async () => {
    const api = feedbackApi()
    const feedback = createFeedback({ api })
    const message = reply()
    await feedback.correct(message, '  Paris, on the Seine.  ')
    expect(api.calls[0][1]).toEqual({ rating: null, correction: 'Paris, on the Seine.' })
    expect(message.feedback.correction).toBe('Paris, on the Seine.')
    await feedback.correct(message, '   ')
    expect(api.calls[1][1]).toEqual({ rating: null, correction: '' })
    expect(message.feedback).toBeNull()
  })

  it('puts back what was saved when the API refuses', async () => {
    const refused = new ApiError({ message: 'not found', status: 404, code: 'not_found' })
    const feedback = createFeedback({ api: feedbackApi({ fail: refused }) })
    const message = reply({ feedback: { rating: 'down', correction: null, updated_at: 'x' } })
    await expect(feedback.rate(message, 'up')).rejects.toThrow('not found')
    expect(message.feedback).toEqual({ rating: 'down', correction: null, updated_at: 'x' })
    expect(feedback.isSaving(message)).toBe(false)
  })
})

describe('feedback under a reply', () => {
  const mountReply = (message, api = feedbackApi()) => {
    const app = appState(api)
    return { app, wrapper: mount(MessageItem, { props: { message, canRate: true }, attachTo: document.body, ...provideApp(app) }) }
  }

  it('has "Good reply" / "Bad reply" toggle buttons whose aria-pressed shows the saved rating', async () => {
    const message = reply({ feedback: { rating: 'down', correction: null, updated_at: 'x' } })
    const { wrapper } = mountReply(message)
    const good = wrapper.get('button[aria-label="Good reply"]')
    const bad = wrapper.get('button[aria-label="Bad reply"]')
    expect([good.attributes('aria-pressed'), bad.attributes('aria-pressed')]).toEqual(['false', 'true'])
    await good.trigger('click')
    await settle()
    expect([good.attributes('aria-pressed'), bad.attributes('aria-pressed')]).toEqual(['true', 'false'])
  })

  it('offers no feedback on a reply being written, or where the thread does not ask for it', () => {
    expect(mountReply(reply({ status: 'streaming' })).wrapper.find('[data-testid="rate-up"]').exists()).toBe(false)
    const plain = mount(MessageItem, { props: { message: reply() } })
    expect(plain.find('[data-testid="rate-up"]').exists()).toBe(false)
  })

  it('writes a better answer starting from the reply, shows it, edits and removes it', async () => {
    const api = feedbackApi()
    const message = reply()
    const { wrapper } = mountReply(message, api)
    await wrapper.get('[data-testid="write-correction"]').trigger('click')
    const box = wrapper.get('[data-testid="correction-editor"] textarea')
    expect(box.element.value).toBe('Paris is the capital.')
    expect(document.activeElement).toBe(box.element)
    expect(wrapper.get('[data-testid="save-correction"]').attributes('disabled')).toBeUndefined()
    await box.setValue('Paris is the capital of France.')
    await box.trigger('keydown', { key: 'Enter', ctrlKey: true })
    await settle()
    expect(wrapper.get('[data-testid="correction"]').text()).toContain('Paris is the capital of France.')
    expect(wrapper.find('[data-testid="write-correction"]').exists()).toBe(false)
    expect(document.activeElement).toBe(wrapper.get('[data-testid="edit-correction"]').element)

    await wrapper.get('[data-testid="edit-correction"]').trigger('click')
    expect(wrapper.get('[data-testid="correction-editor"] textarea').element.value).toBe('Paris is the capital of France.')
    expect(wrapper.get('[data-testid="save-correction"]').attributes('disabled')).toBeDefined() // nothing changed yet
    await wrapper.get('[data-testid="correction-editor"] textarea').trigger('keydown', { key: 'Escape' })
    await wrapper.get('[data-testid="remove-correction"]').trigger('click')
    await settle()
    expect(wrapper.find('[data-testid="correction"]').exists()).toBe(false)
    expect(api.calls.map(([, body]) => body.correction)).toEqual(['Paris is the capital of France.', ''])
  })

  it('says so when the rating could not be saved, and shows the old state again', async () => {
    const api = feedbackApi({ fail: new ApiError({ message: 'The chat server is not reachable.', status: 502 }) })
    const { app, wrapper } = mountReply(reply(), api)
    await wrapper.get('[data-testid="rate-up"]').trigger('click')
    await settle()
    expect(wrapper.get('[data-testid="rate-up"]').attributes('aria-pressed')).toBe('false')
    expect(app.toasts.items.map((t) => t.message)).toEqual(['Could not save the rating: The chat server is not reachable.'])
  })
})

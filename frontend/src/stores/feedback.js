// Feedback on replies (PUT /api/messages/{id}/feedback): thumbs up / down and a better answer the person
// wrote. The change shows at once; the server's answer then replaces it, and a refusal puts back what was saved.
import { reactive } from 'vue'
import { toApiError } from '../api/errors.js'

export const RATINGS = ['up', 'down']

export function createFeedback({ api }) {
  // ids of the messages whose feedback is being saved (their buttons wait)
  const state = reactive({ saving: {} })

  /** Save `change` ({ rating } or { correction }) on top of what `message` has; both fields are always sent. */
  async function save(message, change) {
    const now = message.feedback || {}
    const body = { rating: now.rating ?? null, correction: now.correction ?? '', ...change }
    const before = message.feedback ?? null
    message.feedback = { ...now, ...body, correction: body.correction || null }
    state.saving[message.id] = true
    try {
      const updated = await api.setFeedback(message.id, body)
      message.feedback = updated?.feedback ?? null
      return message.feedback
    } catch (err) {
      message.feedback = before
      throw toApiError(err)
    } finally {
      delete state.saving[message.id]
    }
  }

  /** Thumbs up or down; pressing the rating that is already set takes it back. */
  function rate(message, rating) {
    if (!RATINGS.includes(rating)) throw new Error(`unknown rating ${rating}`)
    return save(message, { rating: message.feedback?.rating === rating ? null : rating })
  }

  /** A better answer; empty text removes it. */
  function correct(message, text) {
    return save(message, { correction: (text || '').trim() })
  }

  return { state, rate, correct, isSaving: (message) => !!state.saving[message?.id] }
}

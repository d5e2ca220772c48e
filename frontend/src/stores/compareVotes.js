// Votes in the compare session on screen (POST /api/votes): which reply to the latest prompt is better — left,
// right, a tie, or both bad. One vote per pair of replies; voting again replaces it.
import { reactive } from 'vue'
import { toApiError } from '../api/errors.js'

export const WINNERS = ['left', 'right', 'tie', 'both_bad']

const isSaved = (message) => Number.isInteger(message?.id)

/** The last reply of a column and the prompt it answers (the user message before it), or null. */
function lastExchange(messages) {
  const index = messages.findLastIndex((m) => m.role === 'assistant')
  if (index === -1) return null
  return { reply: messages[index], prompt: messages.slice(0, index).findLast((m) => m.role === 'user') || null }
}

/** The pair a vote is about: the last reply of each column (null until both columns have one). */
export function latestPair(leftMessages, rightMessages) {
  const left = lastExchange(leftMessages)
  const right = lastExchange(rightMessages)
  return left && right ? { left: left.reply, right: right.reply, prompts: [left.prompt, right.prompt] } : null
}

/** Whether `pair` can be voted on now; when not, `reason` says why in a sentence. */
export function votable(pair, { sending = false } = {}) {
  if (!pair) return { ok: false, reason: 'Send a prompt; you can vote once both replies are complete.' }
  const replies = [pair.left, pair.right]
  if (sending || replies.some((r) => r.status === 'streaming' || !isSaved(r))) {
    return { ok: false, reason: 'Voting opens when both replies have finished.' }
  }
  if (replies.some((r) => r.status !== 'complete')) {
    return { ok: false, reason: 'One reply did not finish (stopped or failed), so this pair cannot be voted on. Send the prompt again to vote.' }
  }
  const [a, b] = pair.prompts
  if (!a || !b || a.content !== b.content) return { ok: false, reason: 'The two replies answer different prompts, so they cannot be compared.' }
  return { ok: true, reason: '' }
}

export function createCompareVotes({ api }) {
  const state = reactive({ items: [], casting: false })

  /** The votes a conversation detail lists (an API without them: none known yet). */
  function reset(votes = []) {
    state.items = Array.isArray(votes) ? [...votes] : []
  }

  function find(pair) {
    if (!pair) return null
    return state.items.find((v) => v.left?.message_id === pair.left.id && v.right?.message_id === pair.right.id) || null
  }

  function remember(vote) {
    const others = state.items.filter((v) => !(v.left?.message_id === vote.left?.message_id && v.right?.message_id === vote.right?.message_id))
    state.items = [...others, vote]
  }

  /** Vote on `pair`; returns the saved vote (with both models' real ids, also in a blind session). */
  async function cast(pair, winner) {
    if (!WINNERS.includes(winner)) throw new Error(`unknown winner ${winner}`)
    const check = votable(pair)
    if (!check.ok) throw toApiError(new Error(check.reason))
    state.casting = true
    try {
      const vote = await api.vote({ left_message_id: pair.left.id, right_message_id: pair.right.id, winner })
      remember(vote)
      return vote
    } catch (err) {
      throw toApiError(err)
    } finally {
      state.casting = false
    }
  }

  return { state, reset, find, remember, cast }
}

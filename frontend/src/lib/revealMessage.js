// Bring one message into view and mark it for a moment (a search hit that was just opened).
import { nextTick } from 'vue'

export async function revealMessage(messageId, { tries = 20, flashMs = 2500 } = {}) {
  for (let i = 0; i < tries; i += 1) {
    await nextTick()
    const el = [...document.querySelectorAll('article[data-message-id]')].find((a) => a.dataset.messageId === String(messageId))
    if (el) {
      el.scrollIntoView({ block: 'center' })
      el.classList.add('found')
      setTimeout(() => el.classList.remove('found'), flashMs)
      return true
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return false
}

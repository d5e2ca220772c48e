// Short messages at the bottom of the screen; errors stay longer and can be dismissed.
import { reactive } from 'vue'

export function createToasts({ timeoutMs = 6000, errorTimeoutMs = 12000 } = {}) {
  const items = reactive([])
  let nextId = 1

  function dismiss(id) {
    const index = items.findIndex((t) => t.id === id)
    if (index !== -1) items.splice(index, 1)
  }

  function push(message, kind = 'info') {
    const id = nextId++
    items.push({ id, message, kind })
    if (items.length > 4) items.shift()
    setTimeout(() => dismiss(id), kind === 'error' ? errorTimeoutMs : timeoutMs)
    return id
  }

  return { items, push, dismiss, error: (m) => push(m, 'error'), info: (m) => push(m, 'info') }
}

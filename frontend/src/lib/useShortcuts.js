// Listens for the app's keyboard shortcuts (lib/shortcuts.js) on the window and calls the handler of each.
// A key that a dialog, menu or field already handled (defaultPrevented) is left alone.
import { onBeforeUnmount, onMounted } from 'vue'
import { matchShortcut } from './shortcuts.js'

/** @param {Record<string, (event: KeyboardEvent) => boolean|void>} handlers a handler returns false when it did nothing */
export function useShortcuts(handlers) {
  function onKeydown(event) {
    if (event.defaultPrevented || event.isComposing) return
    const id = matchShortcut(event)
    if (!id || !handlers[id]) return
    if (handlers[id](event) !== false) event.preventDefault()
  }
  onMounted(() => window.addEventListener('keydown', onKeydown))
  onBeforeUnmount(() => window.removeEventListener('keydown', onKeydown))
}

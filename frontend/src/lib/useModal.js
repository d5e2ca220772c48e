// What every modal (dialog, drawer) does with the keyboard: Escape closes it, Tab stays inside it, the first
// control (or `initialFocus`) takes focus when it opens, and focus goes back to what opened it when it closes.
import { onBeforeUnmount, onMounted } from 'vue'
import { trapTab } from './focusTrap.js'

/**
 * @param {import('vue').Ref<HTMLElement|null>} container the modal's root element
 * @param {() => void} onEscape called on Escape
 * @param {() => HTMLElement|null|undefined} [initialFocus] the element to focus first (default: the first control)
 */
export function useModal(container, onEscape, initialFocus) {
  const previousFocus = document.activeElement

  function onKey(event) {
    if (event.key === 'Escape') onEscape()
    else trapTab(event, container.value)
  }
  onMounted(() => {
    const first = initialFocus ? initialFocus() : container.value?.querySelector('input, select, textarea, button')
    first?.focus()
    window.addEventListener('keydown', onKey)
  })
  onBeforeUnmount(() => {
    window.removeEventListener('keydown', onKey)
    if (previousFocus && document.contains(previousFocus)) previousFocus.focus()
  })
}

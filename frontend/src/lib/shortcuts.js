// The keyboard shortcuts (the ones ChatGPT users already know), and which one a keydown is.
// Ctrl stands for Cmd on a Mac. Plain keys ("?", Esc) never fire while a person types in a field.

export const SHORTCUTS = [
  { id: 'new-chat', keys: ['Ctrl', 'Shift', 'O'], label: 'New chat' },
  { id: 'focus-composer', keys: ['Shift', 'Esc'], label: 'Focus the message box' },
  { id: 'stop', keys: ['Esc'], label: 'Stop the reply being written' },
  { id: 'copy-last', keys: ['Ctrl', 'Shift', 'C'], label: 'Copy the last reply' },
  { id: 'search', keys: ['Ctrl', 'K'], label: 'Search conversations' },
  { id: 'help', keys: ['?'], label: 'Show these shortcuts (or Ctrl + /)' },
]

function typingIn(target) {
  if (!target || !(target instanceof Element) || target.disabled) return false // a locked composer takes no typing
  return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)
}

/** The id of the shortcut `event` is, or null. */
export function matchShortcut(event) {
  const mod = event.ctrlKey || event.metaKey
  const key = (event.key || '').toLowerCase()
  if (mod && event.shiftKey && !event.altKey && key === 'o') return 'new-chat'
  if (mod && event.shiftKey && !event.altKey && key === 'c') return 'copy-last'
  if (mod && !event.shiftKey && !event.altKey && key === 'k') return 'search'
  if (mod && !event.altKey && (key === '/' || key === '?')) return 'help'
  if (event.shiftKey && !mod && key === 'escape') return 'focus-composer'
  if (mod || event.altKey || typingIn(event.target)) return null
  if (key === '?') return 'help'
  if (key === 'escape' && !event.shiftKey) return 'stop'
  return null
}

/** How to write a key on this platform ("Ctrl" is "⌘" on a Mac). */
export function keyLabel(key, platform = globalThis.navigator?.platform || '') {
  return key === 'Ctrl' && /mac/i.test(platform) ? '⌘' : key
}

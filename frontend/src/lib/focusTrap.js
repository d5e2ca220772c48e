// Keep Tab inside a modal (dialog, drawer): from the last focusable element Tab wraps to the first,
// and Shift+Tab from the first wraps to the last, so keyboard users never land on the page behind it.
const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])'

export function focusableIn(container) {
  return container ? [...container.querySelectorAll(FOCUSABLE)].filter((el) => !el.hidden) : []
}

/** Call from a keydown handler; returns true when it moved focus. */
export function trapTab(event, container) {
  if (event.key !== 'Tab' || !container) return false
  const items = focusableIn(container)
  if (!items.length) return false
  const first = items[0]
  const last = items[items.length - 1]
  const active = document.activeElement
  const outside = !container.contains(active)
  if (event.shiftKey && (active === first || outside)) {
    event.preventDefault()
    last.focus()
    return true
  }
  if (!event.shiftKey && (active === last || outside)) {
    event.preventDefault()
    first.focus()
    return true
  }
  return false
}

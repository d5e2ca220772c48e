// A row of buttons as one tab stop (the WAI-ARIA toolbar pattern, with a roving tabindex): Tab enters the row at
// the button used last (else the first), Left/Right move between its buttons, Home/End go to either end. Each
// message's action row is one, so reaching the composer through a long chat takes a Tab per message, not a Tab per
// button (a 5-exchange chat took 44). Buttons that appear, go or get disabled later (feedback saved, a reply
// finished) are followed with a MutationObserver.
const ITEMS = 'button:not([disabled]), a[href]'
const STEPS = { ArrowRight: 1, ArrowLeft: -1 }

function items(row) {
  return [...row.querySelectorAll(ITEMS)]
}

function sync(row) {
  const list = items(row)
  const current = list.includes(row.rovingCurrent) ? row.rovingCurrent : list[0]
  for (const item of list) item.tabIndex = item === current ? 0 : -1
}

function onFocusIn(event) {
  const row = event.currentTarget
  if (!items(row).includes(event.target)) return
  row.rovingCurrent = event.target
  sync(row)
}

function onKeyDown(event) {
  const row = event.currentTarget
  const list = items(row)
  const at = list.indexOf(event.target)
  if (at === -1 || event.altKey || event.ctrlKey || event.metaKey) return
  let next = null
  if (event.key in STEPS) next = (at + STEPS[event.key] + list.length) % list.length
  else if (event.key === 'Home') next = 0
  else if (event.key === 'End') next = list.length - 1
  if (next === null) return
  event.preventDefault()
  list[next].focus()
}

/** v-roving-toolbar="'Reply actions'": the element becomes a labelled toolbar with one tab stop. */
export const vRovingToolbar = {
  mounted(row, binding) {
    row.setAttribute('role', 'toolbar')
    if (binding.value) row.setAttribute('aria-label', binding.value)
    row.addEventListener('focusin', onFocusIn)
    row.addEventListener('keydown', onKeyDown)
    row.rovingObserver = new MutationObserver(() => sync(row))
    row.rovingObserver.observe(row, { childList: true, subtree: true, attributes: true, attributeFilter: ['disabled'] })
    sync(row)
  },
  unmounted(row) {
    row.rovingObserver?.disconnect()
    row.removeEventListener('focusin', onFocusIn)
    row.removeEventListener('keydown', onKeyDown)
  },
}

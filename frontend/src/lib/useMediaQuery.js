// A ref that follows a CSS media query (e.g. phone width), for layout that must change the markup, not only styles.
import { onBeforeUnmount, ref } from 'vue'

export function useMediaQuery(query) {
  const list = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia(query) : null
  const matches = ref(!!list?.matches)
  const update = (event) => (matches.value = event.matches)
  list?.addEventListener?.('change', update)
  onBeforeUnmount(() => list?.removeEventListener?.('change', update))
  return matches
}

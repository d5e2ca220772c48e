// Keep a scroll container pinned to the bottom while content grows, unless the reader scrolled up.
import { nextTick, onMounted, onBeforeUnmount, watch } from 'vue'

export function useAutoScroll(containerRef, watchSource, threshold = 80) {
  let pinned = true

  function onScroll() {
    const el = containerRef.value
    if (el) pinned = el.scrollHeight - el.scrollTop - el.clientHeight < threshold
  }

  function stickToBottom() {
    pinned = true
    nextTick(() => {
      const el = containerRef.value
      if (el) el.scrollTop = el.scrollHeight
    })
  }

  watch(watchSource, () => {
    if (pinned) stickToBottom()
  })
  // A narrower window (phone rotated, sidebar opened) re-wraps the text: stay at the bottom if we were there.
  function onResize() {
    if (pinned) stickToBottom()
  }
  onMounted(() => {
    containerRef.value?.addEventListener('scroll', onScroll, { passive: true })
    window.addEventListener('resize', onResize)
  })
  onBeforeUnmount(() => {
    containerRef.value?.removeEventListener('scroll', onScroll)
    window.removeEventListener('resize', onResize)
  })
  return { stickToBottom }
}

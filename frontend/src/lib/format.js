// Small display helpers: times, durations, token counts.

export function relativeTime(iso, now = Date.now()) {
  const then = Date.parse(iso)
  if (!Number.isFinite(then)) return ''
  const seconds = Math.max(0, Math.round((now - then) / 1000))
  if (seconds < 45) return 'just now'
  const minutes = Math.round(seconds / 60)
  if (minutes < 60) return `${minutes} min ago`
  const hours = Math.round(minutes / 60)
  if (hours < 24) return `${hours} h ago`
  const days = Math.round(hours / 24)
  if (days < 7) return `${days} d ago`
  return new Date(then).toLocaleDateString()
}

export function formatDuration(ms) {
  if (ms == null || !Number.isFinite(Number(ms))) return ''
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`
}

export function formatTokens(usage) {
  if (!usage || usage.completion_tokens == null) return ''
  return plural(usage.completion_tokens, 'token')
}

/** "1 token", "2 tokens", "1,234 characters". */
export function plural(count, noun, nouns = `${noun}s`) {
  return `${Number(count).toLocaleString('en-US')} ${count === 1 ? noun : nouns}`
}

// A search snippet is shown in three lines at most: text before the first match is cut to a short lead, so the
// highlighted words are never clamped away below the third line.

/**
 * @param parts [{ text, match }] as the API sends them
 * @param lead characters kept before the first match (cut at a word boundary, with "…")
 */
export function focusSnippet(parts, lead = 40) {
  const first = parts.findIndex((p) => p.match)
  if (first < 0) return parts
  const before = parts.slice(0, first).map((p) => p.text).join('')
  if (before.length <= lead) return parts
  const start = before.length - lead
  const tail = before.slice(start)
  // the tail may begin inside a word: drop that piece of a word, unless the cut fell on a boundary
  const word = before[start - 1] === ' ' ? -1 : tail.indexOf(' ')
  const kept = word >= 0 && word < tail.length - 1 ? tail.slice(word + 1) : tail
  return [{ text: `…${kept}`, match: false }, ...parts.slice(first)]
}

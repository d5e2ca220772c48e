// Search snippets keep the first match within their three lines.
import { describe, expect, it } from 'vitest'
import { focusSnippet } from '../src/lib/snippet.js'

describe('focusSnippet', () => {
  it('cuts a long lead before the first match at a word boundary', () => {
    const lead = 'word '.repeat(40)
    const parts = [{ text: lead, match: false }, { text: 'needle', match: true }, { text: ' after', match: false }]
    const out = focusSnippet(parts, 20)
    expect(out[0].text.startsWith('…')).toBe(true)
    expect(out[0].text.length).toBeLessThanOrEqual(21)
    expect(out[0].text).toBe('…word word word word ')
    expect(out.slice(1)).toEqual(parts.slice(1))
    const midWord = focusSnippet([{ text: `${lead}abcdef`, match: false }, { text: 'needle', match: true }], 8)
    expect(midWord[0].text).toBe('…abcdef') // "d abcdef" began inside "word": that piece goes
  })

  it('leaves short leads and snippets without a match alone', () => {
    const short = [{ text: 'a short lead ', match: false }, { text: 'needle', match: true }]
    expect(focusSnippet(short)).toEqual(short)
    const none = [{ text: 'no match here', match: false }]
    expect(focusSnippet(none)).toEqual(none)
  })
})

import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { totalsBy } from '../src/lib/usage.js'
import UsageChart from '../src/components/UsageChart.vue'

const ROWS = [
  { day: '2026-12-02', model: 'a', identity: 'user:bob', requests: 1, prompt_tokens: 10, completion_tokens: 5 },
  { day: '2026-12-03', model: 'a', identity: 'user:ann', requests: 2, prompt_tokens: 20, completion_tokens: 10 },
  { day: '2026-12-03', model: 'b', identity: 'user:bob', requests: 1, prompt_tokens: 1, completion_tokens: 1 },
]

describe('totalsBy', () => {
  it('sums rows by day, model or identity, in key order', () => {
    expect(totalsBy(ROWS, 'day')).toEqual([
      { label: '2026-12-02', requests: 1, prompt_tokens: 10, completion_tokens: 5 },
      { label: '2026-12-03', requests: 3, prompt_tokens: 21, completion_tokens: 11 },
    ])
    expect(totalsBy(ROWS, 'identity').map((t) => [t.label, t.requests])).toEqual([['user:ann', 2], ['user:bob', 2]])
    expect(totalsBy([], 'day')).toEqual([])
  })
})

describe('UsageChart', () => {
  it('draws one bar per row, the largest full width, with its total and a title', () => {
    const rows = totalsBy(ROWS, 'day')
    const chart = mount(UsageChart, { props: { rows, caption: 'Tokens per day.' } })
    const bars = chart.findAll('rect.bar-completion')
    expect(bars).toHaveLength(2)
    const widths = chart.findAll('g').map((g) => g.findAll('rect').reduce((sum, r) => sum + Number(r.attributes('width')), 0))
    expect(widths[1]).toBeCloseTo(400) // 32 tokens: the whole bar
    expect(widths[0]).toBeCloseTo(400 * 15 / 32)
    expect(chart.text()).toContain('32')
    expect(chart.find('svg').attributes('aria-label')).toBe('Tokens per day.')
    expect(chart.find('title').text()).toContain('10 prompt + 5 completion tokens, 1 requests')
  })
})

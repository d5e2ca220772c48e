// The leaderboard: ranks by rating, sorting by any column (missing values last either way, again: reversed),
// the interval bars on one scale, the empty state, models not rated yet, and names that open the model card.
import { afterEach, describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import LeaderboardView from '../src/components/LeaderboardView.vue'
import { createLeaderboard, ratingScale, sortRows } from '../src/stores/leaderboard.js'
import { appState, provideApp, settle } from './support/appState.js'

const BOARD = {
  models: [
    { model: 'tiny-lora', rating: 1032.5, ci95: [1001.2, 1070.8], battles: 14, wins: 9, losses: 3, ties: 2, win_rate: 0.64,
      provisional: false, thumbs_up: 5, thumbs_down: 1, thumbs_up_share: 0.83 },
    { model: 'tiny-chat', rating: 967.5, ci95: [929.2, 998.8], battles: 14, wins: 3, losses: 9, ties: 2, win_rate: 0.21,
      provisional: true, thumbs_up: 1, thumbs_down: 3, thumbs_up_share: 0.25 },
    { model: 'tiny-base', rating: null, ci95: null, battles: 0, wins: 0, losses: 0, ties: 0, win_rate: null,
      thumbs_up: 2, thumbs_down: 0, thumbs_up_share: 1 },
  ],
  votes: 14,
  method: 'Bradley-Terry (scipy), 1000 + 400·log10 scale, 95% bootstrap interval over votes (200 resamples)',
  ties: 'a tie counts as half a win for each side; both_bad counts as a tie for the rating and is reported',
  min_battles: 20,
}
const MODELS = [{ id: 'tiny-chat', kind: 'chat' }, { id: 'tiny-lora', kind: 'lora' }, { id: 'tiny-base', kind: 'base' },
  { id: 'new-run', kind: 'alpaca' }]
const api = (board = BOARD) => ({ leaderboard: async () => structuredClone(board), models: async () => MODELS,
  modelCard: async (id) => ({ id, kind: 'lora', run: null }) })

afterEach(() => {
  document.body.innerHTML = ''
})

describe('leaderboard store', () => {
  it('ranks by the server order; sorts any column with missing values last, and reverses on a second ask', async () => {
    const board = createLeaderboard({ api: api() })
    await board.load()
    expect(board.state.rows.map((r) => [r.model, r.rank])).toEqual([['tiny-lora', 1], ['tiny-chat', 2], ['tiny-base', null]])
    board.sortBy('thumbs_up_share')
    expect(board.sorted().map((r) => r.model)).toEqual(['tiny-base', 'tiny-lora', 'tiny-chat'])
    board.sortBy('win_rate')
    expect(board.sorted().map((r) => r.model)).toEqual(['tiny-lora', 'tiny-chat', 'tiny-base'])
    board.sortBy('win_rate')
    expect(board.state.sort).toEqual({ key: 'win_rate', direction: 'asc' })
    expect(board.sorted().map((r) => r.model)).toEqual(['tiny-chat', 'tiny-lora', 'tiny-base'])
    board.sortBy('model')
    expect(board.sorted().map((r) => r.model)).toEqual(['tiny-base', 'tiny-chat', 'tiny-lora'])
    expect(board.unrated(MODELS).map((m) => m.id)).toEqual(['new-run'])
  })

  it('draws every interval on one scale that holds all of them', () => {
    const [lo, hi] = ratingScale(BOARD.models)
    expect(lo).toBeLessThan(929.2)
    expect(hi).toBeGreaterThan(1070.8)
    expect(ratingScale([{ rating: null }])).toBeNull()
    expect(sortRows([{ v: 2 }, { v: null }, { v: 3 }], 'v', 'asc').map((r) => r.v)).toEqual([2, 3, null])
  })

  it('keeps the error for the page to show', async () => {
    const board = createLeaderboard({ api: { leaderboard: async () => { throw new Error('boom') } } })
    await board.load()
    expect(board.state.error).toBe('boom')
    expect(board.state.loaded).toBe(false)
  })
})

describe('LeaderboardView', () => {
  async function mountView(board) {
    const app = appState(api(board))
    await app.models.load()
    const wrapper = mount(LeaderboardView, { attachTo: document.body, ...provideApp(app) })
    await settle()
    return { app, wrapper }
  }

  it('shows a table with the interval as a bar, sortable headers and how ties count', async () => {
    const { wrapper } = await mountView()
    const rows = wrapper.findAll('tbody tr')
    expect(rows.map((r) => r.attributes('data-model'))).toEqual(['tiny-lora', 'tiny-chat', 'tiny-base'])
    const first = rows[0]
    expect(first.get('[data-col="rating"]').text()).toBe('1033')
    expect(first.get('[data-col="ci"]').text()).toBe('1001–1071')
    expect(first.find('[data-col="bar"] svg.interval-bar').exists()).toBe(true)
    expect(first.get('[data-col="battles"]').text()).toMatch(/^14\s+9–3–2$/)
    expect(first.get('[data-col="win_rate"]').text()).toBe('64%')
    expect(first.get('[data-col="thumbs"]').text()).toMatch(/^83%\s+5 of 6$/)
    expect(first.find('[data-testid="provisional"]').exists()).toBe(false)
    expect(rows[1].get('[data-testid="provisional"]').attributes('title')).toContain('Fewer than 20 battles')
    expect(rows[2].find('[data-testid="provisional"]').exists()).toBe(false) // unrated: no rating to call provisional
    expect(rows[2].get('[data-col="rating"]').text()).toBe('–')
    expect(rows[2].find('svg.interval-bar').exists()).toBe(false)
    expect(wrapper.get('th[data-sort="rating"]').attributes('aria-sort')).toBe('descending')
    await wrapper.get('[data-testid="sort-battles"]').trigger('click')
    expect(wrapper.get('th[data-sort="rating"]').attributes('aria-sort')).toBe('none')
    expect(wrapper.get('th[data-sort="battles"]').attributes('aria-sort')).toBe('descending')
    expect(wrapper.get('[data-testid="leaderboard-method"]').text()).toContain('Ties: a tie counts as half a win')
    expect(wrapper.get('[data-testid="leaderboard-method"]').text()).toMatch(/^14 votes\./)
  })

  it('lists the models nobody has rated yet, and a model name opens its card', async () => {
    const { app, wrapper } = await mountView()
    expect(wrapper.get('[data-testid="unrated"]').text()).toContain('new-run')
    await wrapper.get('[data-testid="card-tiny-lora"]').trigger('click')
    expect(app.cards.state.openId).toBe('tiny-lora')
    await settle()
    expect(app.cards.state.cards['tiny-lora'].id).toBe('tiny-lora')
  })

  it('offers a benchmark column when the rated models have scores, from their cards', async () => {
    const scores = { 'tiny-lora': 0.31, 'tiny-chat': 0.36 }
    const app = appState({ ...api(), modelCard: async (id) => ({ id, kind: 'lora', run: null,
      benchmarks: id in scores ? { arc_easy: { acc: scores[id], acc_norm: null, n: 20, limit: 20, data: 'd', created: 'x' } } : {} }) })
    await app.models.load()
    const wrapper = mount(LeaderboardView, { attachTo: document.body, ...provideApp(app) })
    await settle()
    await settle()
    expect(wrapper.find('[data-col="benchmark"]').exists()).toBe(false)
    const select = wrapper.get('[data-testid="benchmark-column"]')
    expect(select.findAll('option').map((o) => o.text())).toEqual(['none', 'arc_easy (acc)'])
    await select.setValue('arc_easy')
    const cells = wrapper.findAll('tbody tr').map((r) => [r.attributes('data-model'), r.get('[data-col="benchmark"]').text()])
    expect(cells).toEqual([['tiny-lora', '31.0%'], ['tiny-chat', '36.0%'], ['tiny-base', '–']])
  })

  it('says how to get votes when there are none', async () => {
    const { wrapper } = await mountView({ models: [], votes: 0, method: '', ties: '' })
    expect(wrapper.find('table').exists()).toBe(false)
    const empty = wrapper.get('[data-testid="leaderboard-empty"]')
    expect(empty.text()).toContain('No votes yet')
    expect(empty.get('a').attributes('href')).toBe('#/compare')
    expect(empty.text()).toContain('Two random models (blind)')
  })
})

// The leaderboard (GET /api/leaderboard): per model a rating from the compare votes with its 95% interval, the
// battles, win rate and the share of thumbs-up replies — sorted as the person asks (a model without a value for
// the column sorts last either way). Models the server offers that nobody has voted on or rated yet are listed
// apart, so a new run is on the page from the start.
import { reactive } from 'vue'
import { toApiError } from '../api/errors.js'

export const COLUMNS = [
  { key: 'model', label: 'Model', numeric: false },
  { key: 'rating', label: 'Rating', numeric: true },
  { key: 'battles', label: 'Battles', numeric: true },
  { key: 'win_rate', label: 'Win rate', numeric: true },
  { key: 'thumbs_up_share', label: 'Thumbs up', numeric: true },
]

const missing = (value) => value === null || value === undefined || Number.isNaN(value)

/** A sorted copy of `rows` by `key`; missing values always last; equal values keep the server's order. */
export function sortRows(rows, key, direction = 'desc') {
  const sign = direction === 'asc' ? 1 : -1
  return rows.map((row, index) => ({ row, index })).sort((a, b) => {
    const x = a.row[key]
    const y = b.row[key]
    if (missing(x) || missing(y)) return missing(x) - missing(y) || a.index - b.index
    const order = typeof x === 'string' ? x.localeCompare(y) : x - y
    return order * sign || a.index - b.index
  }).map(({ row }) => row)
}

/** The range every interval bar is drawn on: the lowest and highest interval ends (and ratings), padded. */
export function ratingScale(rows) {
  const values = rows.flatMap((r) => [r.rating, ...(Array.isArray(r.ci95) ? r.ci95 : [])]).filter((v) => Number.isFinite(v))
  if (!values.length) return null
  const lo = Math.min(...values)
  const hi = Math.max(...values)
  const pad = Math.max((hi - lo) * 0.05, 1)
  return [lo - pad, hi + pad]
}

export function createLeaderboard({ api }) {
  const state = reactive({ rows: [], votes: 0, method: '', ties: '', minBattles: 10, loading: false, loaded: false, error: '',
    sort: { key: 'rating', direction: 'desc' } })

  async function load() {
    state.loading = true
    state.error = ''
    try {
      const data = await api.leaderboard()
      let rank = 0
      // the server's order is by rating: that is the rank, whichever column the table is sorted by
      state.rows = (data.models || []).map((row) => ({ ...row, rank: missing(row.rating) ? null : ++rank }))
      Object.assign(state, { votes: data.votes || 0, method: data.method || '', ties: data.ties || '',
        minBattles: data.min_battles || state.minBattles, loaded: true })
    } catch (err) {
      state.error = toApiError(err).message
    } finally {
      state.loading = false
    }
  }

  /** Sort by `key`; asking again for the same column turns the order around. Numbers start best first. */
  function sortBy(key) {
    const column = COLUMNS.find((c) => c.key === key)
    if (!column) return
    if (state.sort.key === key) state.sort.direction = state.sort.direction === 'asc' ? 'desc' : 'asc'
    else Object.assign(state.sort, { key, direction: column.numeric ? 'desc' : 'asc' })
  }

  return {
    state,
    load,
    sortBy,
    sorted: () => sortRows(state.rows, state.sort.key, state.sort.direction),
    scale: () => ratingScale(state.rows),
    /** The offered models with no row yet (no votes, no thumbs). */
    unrated: (models) => models.filter((m) => !state.rows.some((r) => r.model === m.id)),
  }
}

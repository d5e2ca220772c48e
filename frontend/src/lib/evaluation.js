// What an evaluation (the last `llmchat evaluate` that included a run, in its card) says, as table rows: overall
// and, when the test set has them, the training ("seen") and held-out ("unseen") phrasings; per task; and the
// other models of the same report on the same test. The card's `evaluation` is the run's evaluation.json:
// { created, report, data, n, max_tokens, models: { <id>: { summary, loss?, judge_mean? } }, model }; a bare
// report entry ({ summary }) or a bare summary are read too.

const PHRASINGS = [
  { key: 'seen', label: 'Training phrasings (seen)' },
  { key: 'unseen', label: 'Held-out phrasings (unseen)' },
]

/** This model's entry of the report: { summary, loss?, judge_mean? } (or what stands in for it). */
export function entryOf(evaluation) {
  if (!evaluation || typeof evaluation !== 'object') return null
  if (evaluation.models && evaluation.model && evaluation.models[evaluation.model]) return evaluation.models[evaluation.model]
  return evaluation
}

/** The scores: `summary` of the entry, or the entry itself when it is a bare summary. */
export function scoresOf(evaluation) {
  const entry = entryOf(evaluation)
  if (!entry) return null
  return entry.summary && typeof entry.summary === 'object' ? entry.summary : entry
}

/** Rows { label, n, exact_match, contains_match } for the overall result and each phrasing split present. */
export function evaluationRows(evaluation) {
  const scores = scoresOf(evaluation)
  if (!scores || scores.exact_match === undefined) return []
  const rows = [{ label: 'All test examples', n: scores.n, exact_match: scores.exact_match, contains_match: scores.contains_match }]
  for (const { key, label } of PHRASINGS) {
    const split = scores.by_phrasing?.[key]
    if (split) rows.push({ label, n: split.n, exact_match: split.exact_match, contains_match: split.contains_match })
  }
  return rows
}

/** Rows { task, n, exact_match, seen, unseen } per task (seen/unseen: exact match % in that phrasing, or null). */
export function taskRows(evaluation) {
  const tasks = scoresOf(evaluation)?.by_task || {}
  return Object.entries(tasks).map(([task, t]) => ({ task, n: t.n, exact_match: t.exact_match,
    seen: t.by_phrasing?.seen?.exact_match ?? null, unseen: t.by_phrasing?.unseen?.exact_match ?? null }))
}

/** Every model of the report, this one first: { model, self, exact_match, seen, unseen } (exact match %). */
export function comparisonRows(evaluation) {
  const models = evaluation?.models
  if (!models || typeof models !== 'object' || Object.keys(models).length < 2) return []
  const ids = Object.keys(models).sort((a, b) => (b === evaluation.model) - (a === evaluation.model))
  return ids.map((model) => {
    const summary = models[model]?.summary || {}
    return { model, self: model === evaluation.model, exact_match: summary.exact_match ?? null,
      seen: summary.by_phrasing?.seen?.exact_match ?? null, unseen: summary.by_phrasing?.unseen?.exact_match ?? null }
  })
}

/** "2026-11-29 18:36" from evaluate's "20261129-183621" (anything else as it came). */
export function formatStamp(stamp) {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})\d{2}$/.exec(stamp || '')
  return m ? `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}` : stamp
}

/** Extra facts, as [label, value] pairs: when, test data, greedy token limit, eval loss, perplexity, judge. */
export function evaluationFacts(evaluation) {
  if (!evaluation || typeof evaluation !== 'object') return []
  const meta = evaluation.meta || evaluation
  const entry = entryOf(evaluation) || {}
  const loss = entry.loss || {}
  const facts = [
    ['When', formatStamp(meta.created)],
    ['Test data', meta.data && meta.n ? `${meta.data} (${meta.n} examples)` : meta.data],
    ['Max tokens', meta.max_tokens],
    ['Eval loss', loss.eval_loss],
    ['Perplexity', loss.perplexity],
    ['Judge (1–5)', entry.judge_mean],
    ['Failed requests', scoresOf(evaluation)?.errors || null],
    ['Report', meta.report],
  ]
  return facts.filter(([, value]) => value !== undefined && value !== null && value !== '')
}

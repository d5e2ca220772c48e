// What an evaluation summary (the last `llmchat evaluate` of a model, in its card) says, as table rows:
// overall and, when the test set has them, the training ("seen") and held-out ("unseen") phrasings, and per task.

const PHRASINGS = [
  { key: 'seen', label: 'Training phrasings (seen)' },
  { key: 'unseen', label: 'Held-out phrasings (unseen)' },
]

/** The scores part of an evaluation: `{summary: {...}}` (a report's model entry) or the summary itself. */
export function scoresOf(evaluation) {
  if (!evaluation || typeof evaluation !== 'object') return null
  return evaluation.summary && typeof evaluation.summary === 'object' ? evaluation.summary : evaluation
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

/** Extra facts of an evaluation, as [label, value] pairs: when, data, eval loss, perplexity, judge. */
export function evaluationFacts(evaluation) {
  if (!evaluation || typeof evaluation !== 'object') return []
  const meta = evaluation.meta || evaluation
  const loss = evaluation.loss || {}
  const facts = [
    ['When', meta.created],
    ['Test data', meta.data],
    ['Eval loss', loss.eval_loss],
    ['Perplexity', loss.perplexity],
    ['Judge (1–5)', evaluation.judge_mean],
    ['Errors', scoresOf(evaluation)?.errors || null],
  ]
  return facts.filter(([, value]) => value !== undefined && value !== null && value !== '')
}

// Standard-benchmark scores on model cards (`llmchat evaluate --tasks`): card.benchmarks = {task: {acc, acc_norm,
// n, limit, data, created}}, the latest result per task.

/** "61.2%" from a 0..1 share, "–" without one. */
export function share(value) {
  return Number.isFinite(value) ? `${(value * 100).toFixed(1)}%` : '–'
}

/** One row per task, by name: what the card's benchmark table shows. */
export function benchmarkRows(card) {
  return Object.entries(card?.benchmarks || {})
    .map(([task, score]) => ({
      task,
      acc: score?.acc ?? null,
      accNorm: score?.acc_norm ?? null,
      n: score?.n ?? null,
      partial: Number.isFinite(score?.limit),
      data: score?.data || '',
    }))
    .sort((a, b) => a.task.localeCompare(b.task))
}

/** The tasks any of these cards has a score for, by name: the leaderboard's benchmark choices. */
export function benchmarkTasks(cards) {
  const tasks = new Set()
  for (const card of cards) for (const task of Object.keys(card?.benchmarks || {})) tasks.add(task)
  return [...tasks].sort()
}

/** A model's accuracy on `task` from its card, or null. */
export function benchmarkScore(card, task) {
  const value = card?.benchmarks?.[task]?.acc
  return Number.isFinite(value) ? value : null
}

/** A run's benchmarks beside its base's ({tasks, run, base}: after training or the run page's Evaluate): per task
 * the run's accuracy beside its base's. */
export function runBenchmarkRows(summary) {
  if (!summary) return []
  return (summary.tasks || []).map((task) => ({
    task,
    run: summary.run?.[task]?.acc ?? null,
    base: summary.base?.[task]?.acc ?? null,
    n: summary.run?.[task]?.n ?? null,
  }))
}

// The geometry of a loss curve (LossCurve.vue) and a sentence that says what it shows.

const finite = (v) => typeof v === 'number' && Number.isFinite(v)

/**
 * SVG polyline points for `loss` and `eval_loss` over `step`, in a box of width × height with room for labels.
 * Returns null when no point has a loss.
 */
export function lossPaths(points, { width = 480, height = 180 } = {}) {
  const rows = (points || []).filter((p) => finite(p.step) && (finite(p.loss) || finite(p.eval_loss)))
  if (!rows.length) return null
  const box = { left: 44, right: width - 12, top: 10, bottom: height - 24 }
  const steps = rows.map((p) => p.step)
  const values = rows.flatMap((p) => [p.loss, p.eval_loss]).filter(finite)
  const x = { min: Math.min(...steps), max: Math.max(...steps) }
  const y = { min: Math.min(...values), max: Math.max(...values) }
  const px = (step) => box.left + ((step - x.min) / (x.max - x.min || 1)) * (box.right - box.left)
  const py = (value) => box.bottom - ((value - y.min) / (y.max - y.min || 1)) * (box.bottom - box.top)
  const series = (key) => rows.filter((p) => finite(p[key])).map((p) => [round(px(p.step)), round(py(p[key]))])
  const line = (pts) => (pts.length ? pts.map((p) => p.join(',')).join(' ') : null)
  const evalDots = series('eval_loss')
  return { box, x, y, loss: line(series('loss')), eval: line(evalDots), evalDots }
}

const round = (v) => Math.round(v * 10) / 10

/** "Training loss 2.31 at step 1 to 0.84 at step 200; evaluation loss 1.90 to 1.02 (4 evaluations)." */
export function lossSummary(points) {
  const rows = (points || []).filter((p) => finite(p.step))
  const describe = (key, name) => {
    const with_ = rows.filter((p) => finite(p[key]))
    if (!with_.length) return ''
    const [first, last] = [with_[0], with_[with_.length - 1]]
    if (with_.length === 1) return `${name} ${first[key].toFixed(2)} at step ${first.step}`
    return `${name} ${first[key].toFixed(2)} at step ${first.step} to ${last[key].toFixed(2)} at step ${last.step}`
  }
  const parts = [describe('loss', 'Training loss'), describe('eval_loss', 'evaluation loss')].filter(Boolean)
  if (!parts.length) return 'No loss values were logged.'
  const text = parts.join('; ')
  return `${text[0].toUpperCase()}${text.slice(1)}.`
}

// Run queue helpers: states, progress and ETA in words, the form's values, and merging live loss points.

export const ENDED = ['stopped', 'failed', 'finished']
export const ACTIVE = ['queued', 'running', 'stopping']

/** "4 min 05 s", "12 s"; '' when unknown. */
export function formatEta(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return ''
  const total = Math.round(seconds)
  if (total < 60) return `${total} s`
  const minutes = Math.floor(total / 60)
  if (minutes < 60) return `${minutes} min ${String(total % 60).padStart(2, '0')} s`
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`
}

/** Percent done (0-100), or null when the total is unknown yet. */
export function percentDone(progress) {
  if (!progress || !progress.max_steps) return null
  return Math.min(100, Math.round((100 * progress.step) / progress.max_steps))
}

/** "step 12 of 20 · about 8 s left" */
export function progressText(progress, status) {
  if (!progress || !progress.max_steps) return status === 'running' ? 'starting: loading the data and the model…' : ''
  const parts = [`step ${progress.step} of ${progress.max_steps}`]
  if (status === 'running' && progress.eta_s != null) parts.push(`about ${formatEta(progress.eta_s)} left`)
  return parts.join(' · ')
}

/** A new loss point into the list: a point of a step already there (a resumed run logs some again) replaces it. */
export function addPoint(points, point) {
  const rest = points.filter((p) => !(p.step === point.step && ('loss' in p) === ('loss' in point)))
  return [...rest, point].sort((a, b) => a.step - b.step)
}

/** The form's starting values from a preset: the chosen keys and every main setting. */
export function presetValues(preset, settings) {
  const values = preset ? preset.values : {}
  const form = { run_name: values.run_name || '', base_model: values.base_model || '', method: values.method || 'lora', data: values.data || '' }
  for (const setting of settings) form[setting.name] = values[setting.name] ?? setting.default
  return form
}

/** A number input's step: whole numbers for integers, else any value (learning rates are tiny). */
export const settingStep = (setting) => (setting.type === 'integer' ? 1 : 'any')

/** What the form sends: numbers as numbers (an empty box is left out: the preset's value stays). */
export function formValues(form, settings) {
  const values = {}
  for (const [key, value] of Object.entries(form)) {
    const setting = settings.find((s) => s.name === key)
    if (setting) {
      if (value === '' || value == null) continue
      values[key] = Number(value)
    } else if (value !== '') values[key] = value
  }
  return values
}

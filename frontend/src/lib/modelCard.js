// What a model card (GET /api/models/{id}/card) says, as [label, value] rows for a definition list.

const ORIGINS = {
  config: 'configured (configs/models.yaml)',
  adapters: 'an adapter in models/adapters',
  runs: 'a fine-tuning run in models/runs',
}

/** "2026-11-29 18:34 UTC" from an ISO time (anything else as it came). */
export function formatCreated(created) {
  const time = Date.parse(created)
  if (!created || !Number.isFinite(time)) return created || null
  return `${new Date(time).toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

const present = ([, value]) => value !== undefined && value !== null && value !== ''

/** The card's facts: kind, base model, prompt style, engine, context, where it comes from, when it was made. */
export function cardFacts(card) {
  if (!card) return []
  return [
    ['Kind', card.kind],
    ['Base model', card.base_model],
    ['Prompt style', card.prompt_style],
    ['Engine', card.engine],
    ['Context', Number.isFinite(card.context_length) ? `${card.context_length.toLocaleString('en-US')} tokens` : null],
    ['From', ORIGINS[card.origin] || card.origin],
    ['Created', formatCreated(card.created)],
  ].filter(present)
}

function show(value) {
  if (Array.isArray(value)) return value.map(show).join(', ')
  if (value && typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

/** A training recipe flattened to rows: nested settings as "lora.r", lists joined; at most `limit` rows. */
export function recipeRows(recipe, limit = 40) {
  const rows = []
  const walk = (object, prefix) => {
    for (const [key, value] of Object.entries(object || {})) {
      const name = prefix ? `${prefix}.${key}` : key
      if (value && typeof value === 'object' && !Array.isArray(value)) walk(value, name)
      else if (value !== null && value !== undefined && value !== '') rows.push([name, show(value)])
    }
  }
  walk(recipe, '')
  return rows.slice(0, limit)
}

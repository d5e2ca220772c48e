// Usage rows ({ day, model, identity?, requests, prompt_tokens, completion_tokens }) summed by one of their keys,
// as the usage charts draw them: [{ label, requests, prompt_tokens, completion_tokens }], in key order.
export function totalsBy(rows, key) {
  const totals = new Map()
  for (const row of rows) {
    const label = row[key]
    const total = totals.get(label) || { label, requests: 0, prompt_tokens: 0, completion_tokens: 0 }
    total.requests += row.requests
    total.prompt_tokens += row.prompt_tokens
    total.completion_tokens += row.completion_tokens
    totals.set(label, total)
  }
  return [...totals.values()].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0))
}

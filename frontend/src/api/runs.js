// The run queue (admins): /api/admin/runs (docs/api.md, "Runs"). Live events come over EventSource (a GET).
import { call, http } from './client.js'

const path = (id) => encodeURIComponent(id)

export const runsApi = {
  list: () => call(http.get('/admin/runs')),
  /** -> { methods, settings: [{name, type, default, min, max}], presets: [{name, path, values}] } */
  form: () => call(http.get('/admin/runs/form')),
  /** -> { command, run_name }: the exact `llmchat finetune` command of { preset, values } (400 names a bad field) */
  command: (body) => call(http.post('/admin/runs/command', body)),
  start: (body) => call(http.post('/admin/runs', body)),
  get: (id) => call(http.get(`/admin/runs/${path(id)}`)),
  stop: (id) => call(http.post(`/admin/runs/${path(id)}/stop`)),
  resume: (id) => call(http.post(`/admin/runs/${path(id)}/resume`)),
  /** { limit?, tasks?: ['arc_easy', ...] } -> { running, command, failed, log, summary, benchmarks, tasks } */
  evaluate: (id, body = {}) => call(http.post(`/admin/runs/${path(id)}/evaluate`, body)),
  eventsUrl: (id) => `/api/admin/runs/${path(id)}/events`,
}

// The training studio's admin endpoints (docs/api.md): the Data page's datasets, uploads and from-chats exports,
// and a finished run's exports (GGUF + Modelfile, OpenVINO, merged HF folder).
import { call, http } from './client.js'
import { toApiError } from './errors.js'

const path = (id) => encodeURIComponent(id)

export const studioApi = {
  /** -> { datasets: [{ id, source, name, format, rows, error }], recipes: [{ name, format, cutoff_len }] } */
  datasets: () => call(http.get('/admin/data/datasets')),
  /** id: 'uploads/mine.jsonl' -> { dataset, recipe, preview, split, lengths } */
  dataset: (id, recipe) => {
    const [source, name] = id.split('/')
    return call(http.get(`/admin/data/datasets/${path(source)}/${path(name)}`, { params: recipe ? { recipe } : {} }))
  },
  /** { name, format, text } -> { dataset }; a bad file throws an ApiError whose `rows` are [{ line, field, message }] */
  upload: async (body) => {
    try {
      return (await http.post('/admin/data/uploads', body)).data
    } catch (err) {
      const error = toApiError(err)
      error.rows = err?.response?.data?.errors || []
      error.rowCount = err?.response?.data?.error_count || 0
      throw error
    }
  },
  /** { format, name? } -> { dataset, considered, skipped, report } */
  fromChats: (body) => call(http.post('/admin/data/from-chats', body, { timeout: 600000 })),
  runExports: (run) => call(http.get(`/admin/runs/${path(run)}/exports`)),
  /** { merge?, gguf?: ['Q8_0', 'Q4_0'], openvino?: ['int8', 'int4'] }: answers when the files are written */
  makeExports: (run, body) => call(http.post(`/admin/runs/${path(run)}/exports`, body, { timeout: 3600000 })),
}

// The run page's Evaluate: ticked benchmarks go to the server as `tasks` (none: the held-out split), the page looks
// again until the evaluation is done and then shows the run's scores beside its base's; one that ended without its
// result shows the end of its output.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import RunEvaluation from '../src/components/RunEvaluation.vue'
import { runsApi } from '../src/api/runs.js'
import { appState, provideApp } from './support/appState.js'

vi.mock('../src/api/runs.js', () => ({ runsApi: { evaluate: vi.fn(), get: vi.fn() } }))

const TASKS = [{ name: 'arc_easy', data: true }, { name: 'arc_challenge', data: false }, { name: 'hellaswag', data: false },
  { name: 'mmlu', data: false }]
const IDLE = { running: false, command: null, failed: false, log: [], summary: null, benchmarks: null, tasks: TASKS }
const COMMAND = 'llmchat evaluate --models tiny-chat,tiny-run --worker-url http://w --limit 40 --tasks arc_easy --data-dir d'
const SCORED = { ...IDLE, command: COMMAND, benchmarks: { tasks: ['arc_easy'], base_model: 'tiny-chat',
  run: { arc_easy: { acc: 0.5, n: 6 } }, base: { arc_easy: { acc: 0.3333, n: 6 } } } }

beforeEach(() => vi.useFakeTimers()) // the 2 s between looks, fired by hand
afterEach(() => {
  vi.useRealTimers()
  vi.clearAllMocks()
  document.body.innerHTML = ''
})

function mountEvaluation(evaluation = IDLE) {
  const app = appState()
  return { app, wrapper: mount(RunEvaluation, { attachTo: document.body, props: { runId: 'tiny-run', evaluation }, ...provideApp(app) }) }
}

describe('Evaluate on the run page', () => {
  it('sends the ticked benchmarks and shows the scores beside the base once the evaluation is done', async () => {
    runsApi.evaluate.mockResolvedValue({ ...IDLE, running: true, command: COMMAND })
    runsApi.get.mockResolvedValueOnce({ evaluation: { ...IDLE, running: true, command: COMMAND } }).mockResolvedValueOnce({ evaluation: SCORED })
    const { wrapper } = mountEvaluation()
    const labels = wrapper.findAll('[data-testid="run-tasks"] label').map((l) => l.text())
    expect(labels[0]).toBe('arc_easy')
    expect(labels[1]).toContain('the datasets cache') // no data folder: said beside it
    await wrapper.find('[data-testid="run-task-arc_easy"]').setValue(true)
    expect(wrapper.find('[data-testid="run-evaluate"]').text()).toBe('Evaluate on 1 benchmark')
    await wrapper.find('[data-testid="run-evaluate"]').trigger('click')
    await flushPromises()
    expect(runsApi.evaluate).toHaveBeenCalledWith('tiny-run', { tasks: ['arc_easy'] })
    expect(wrapper.find('[data-testid="run-evaluate"]').attributes('disabled')).toBeDefined()
    await vi.advanceTimersByTimeAsync(2000) // still running: it looks again
    await vi.advanceTimersByTimeAsync(2000)
    expect(runsApi.get).toHaveBeenCalledTimes(2)
    const row = wrapper.find('[data-testid="run-benchmarks"] tbody tr')
    expect(row.findAll('th, td').map((c) => c.text())).toEqual(['arc_easy', '6', '50.0%', '33.3%'])
    expect(wrapper.find('[data-testid="run-evaluate"]').attributes('disabled')).toBeUndefined()
  })

  it('evaluates on the held-out split with nothing ticked', async () => {
    runsApi.evaluate.mockResolvedValue({ ...IDLE, running: true })
    const { wrapper } = mountEvaluation()
    expect(wrapper.find('[data-testid="run-evaluate"]').text()).toBe('Evaluate')
    await wrapper.find('[data-testid="run-evaluate"]').trigger('click')
    expect(runsApi.evaluate).toHaveBeenCalledWith('tiny-run', { tasks: [] })
  })

  it('shows the end of the output of an evaluation that ended without its result', async () => {
    const failed = { ...IDLE, command: COMMAND, failed: true, log: ['error: task arc_easy: d/arc_easy/test.jsonl is missing'] }
    const { wrapper } = mountEvaluation(failed)
    expect(wrapper.find('[data-testid="run-evaluation-failed"]').exists()).toBe(true)
    expect(wrapper.find('pre').text()).toContain('test.jsonl is missing')
    expect(wrapper.find('[data-testid="run-benchmarks"]').exists()).toBe(false)
  })
})

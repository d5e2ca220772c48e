// The run queue's helpers: routes to the runs pages, progress and ETA in words, live loss points, the form's values.
import { describe, expect, it } from 'vitest'
import { parseHash } from '../src/stores/router.js'
import { addPoint, formatEta, formValues, percentDone, presetValues, progressText } from '../src/lib/runs.js'

describe('run routes', () => {
  it('opens the runs page and a run page, and refuses an empty run id', () => {
    expect(parseHash('#/runs')).toEqual({ view: 'runs', conversationId: null, badLink: null })
    expect(parseHash('#/runs/my%20run')).toEqual({ view: 'run', conversationId: null, badLink: null, runId: 'my run' })
    expect(parseHash('#/runs/%20')).toMatchObject({ view: 'chat', badLink: '#/runs/%20' })
  })
})

describe('progress', () => {
  it('says the step, the total and the time left while running', () => {
    expect(formatEta(42)).toBe('42 s')
    expect(formatEta(125)).toBe('2 min 05 s')
    expect(formatEta(7300)).toBe('2 h 01 min')
    expect(formatEta(null)).toBe('')
    const progress = { step: 5, max_steps: 20, eta_s: 30 }
    expect(percentDone(progress)).toBe(25)
    expect(percentDone({ step: 0, max_steps: null })).toBeNull()
    expect(progressText(progress, 'running')).toBe('step 5 of 20 · about 30 s left')
    expect(progressText(progress, 'stopped')).toBe('step 5 of 20')
    expect(progressText({ step: 0, max_steps: null }, 'running')).toMatch(/^starting/)
  })

  it('keeps one point per step and kind, in step order, as points arrive (a resumed run logs some again)', () => {
    let points = []
    for (const point of [{ step: 2, loss: 2 }, { step: 1, loss: 3 }, { step: 2, eval_loss: 2.5 }, { step: 2, loss: 1.9 }]) {
      points = addPoint(points, point)
    }
    expect(points).toEqual([{ step: 1, loss: 3 }, { step: 2, eval_loss: 2.5 }, { step: 2, loss: 1.9 }])
  })
})

describe('the New run form', () => {
  const settings = [{ name: 'max_steps', type: 'integer', default: -1 }, { name: 'learning_rate', type: 'number', default: 3e-4 }]

  it('starts from a preset and sends numbers as numbers, leaving an emptied box to the preset', () => {
    const preset = { values: { run_name: 'demo', base_model: 'smollm2-chat', method: 'lora', data: 'd.jsonl', max_steps: 200 } }
    const form = presetValues(preset, settings)
    expect(form).toEqual({ run_name: 'demo', base_model: 'smollm2-chat', method: 'lora', data: 'd.jsonl', max_steps: 200, learning_rate: 3e-4 })
    expect(formValues({ ...form, max_steps: '20', learning_rate: '' }, settings)).toEqual({
      run_name: 'demo', base_model: 'smollm2-chat', method: 'lora', data: 'd.jsonl', max_steps: 20,
    })
  })
})

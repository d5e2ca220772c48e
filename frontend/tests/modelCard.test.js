// Model cards: the facts, the loss curve as SVG geometry with a sentence saying the same, the evaluation with
// its seen/unseen phrasing splits, the recipe, and the dialog that shows them (Escape closes it).
import { afterEach, describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ModelCardDialog from '../src/components/ModelCardDialog.vue'
import { lossPaths, lossSummary } from '../src/lib/lossCurve.js'
import { comparisonRows, evaluationFacts, evaluationRows, taskRows } from '../src/lib/evaluation.js'
import { cardFacts, recipeRows } from '../src/lib/modelCard.js'
import { appState, provideApp, settle } from './support/appState.js'

const CURVE = [{ step: 10, loss: 2.5 }, { step: 20, loss: 1.5, eval_loss: 1.8 }, { step: 30, loss: 0.5 }, { step: 30, eval_loss: 1.2 }]
const SUMMARY = {
  summary: { n: 40, exact_match: 45, contains_match: 60, errors: 0,
    by_task: { sort: { n: 20, exact_match: 50, by_phrasing: { seen: { n: 10, exact_match: 70 }, unseen: { n: 10, exact_match: 30 } } } },
    by_phrasing: { seen: { n: 20, exact_match: 60, contains_match: 70 }, unseen: { n: 20, exact_match: 30, contains_match: 50 } } },
  loss: { eval_loss: 1.21, perplexity: 3.35 },
}
// the run's evaluation.json: the report's meta and every model it evaluated, this run named by `model`
const EVALUATION = { created: '20260501-120000', report: 'reports/eval-20260501-120000', data: 'models/runs/tiny-run/test.jsonl',
  n: 40, max_tokens: 32, model: 'tiny-run',
  models: { 'tiny-chat': { summary: { n: 40, exact_match: 5, contains_match: 20, by_phrasing: { seen: { exact_match: 5 }, unseen: { exact_match: 5 } } } },
    'tiny-run': SUMMARY } }
const CARD = { id: 'tiny-run', kind: 'alpaca', base_model: 'tiny-chat', prompt_style: 'alpaca', engine: 'transformers',
  context_length: 512, origin: 'runs', created: '2026-05-01T10:00:00Z',
  run: { method: 'lora', recipe: { steps: 200, lora: { r: 8, alpha: 16 }, targets: ['q_proj', 'v_proj'] }, loss_curve: CURVE,
    evaluation: EVALUATION } }

afterEach(() => {
  document.body.innerHTML = ''
})

describe('loss curve', () => {
  it('maps steps and losses into the box: first step left, lowest loss at the bottom', () => {
    const chart = lossPaths(CURVE, { width: 480, height: 180 })
    expect(chart.x).toEqual({ min: 10, max: 30 })
    expect(chart.y).toEqual({ min: 0.5, max: 2.5 })
    const points = chart.loss.split(' ').map((p) => p.split(',').map(Number))
    expect(points[0]).toEqual([chart.box.left, chart.box.top])
    expect(points[2]).toEqual([chart.box.right, chart.box.bottom])
    expect(chart.evalDots).toHaveLength(2)
    expect(lossPaths([{ step: 1 }])).toBeNull()
  })

  it('says what the curve shows in words', () => {
    expect(lossSummary(CURVE)).toBe('Training loss 2.50 at step 10 to 0.50 at step 30; evaluation loss 1.80 at step 20 to 1.20 at step 30.')
    expect(lossSummary([{ step: 5, eval_loss: 1 }])).toBe('Evaluation loss 1.00 at step 5.')
  })
})

describe('card contents', () => {
  it('splits the evaluation by phrasing (seen / unseen) and by task, and lists the models of the same test', () => {
    expect(evaluationRows(EVALUATION).map((r) => [r.label, r.exact_match])).toEqual([
      ['All test examples', 45], ['Training phrasings (seen)', 60], ['Held-out phrasings (unseen)', 30]])
    expect(taskRows(EVALUATION)).toEqual([{ task: 'sort', n: 20, exact_match: 50, seen: 70, unseen: 30 }])
    expect(evaluationRows({ n: 3, exact_match: 10, contains_match: 20 })).toHaveLength(1) // a bare summary, no splits
    expect(evaluationRows(SUMMARY)).toEqual(evaluationRows(EVALUATION)) // a bare report entry
    expect(comparisonRows(EVALUATION)).toEqual([
      { model: 'tiny-run', self: true, exact_match: 45, seen: 60, unseen: 30 },
      { model: 'tiny-chat', self: false, exact_match: 5, seen: 5, unseen: 5 }])
    expect(evaluationFacts(EVALUATION)).toContainEqual(['Test data', 'models/runs/tiny-run/test.jsonl (40 examples)'])
    expect(evaluationFacts(EVALUATION)).toContainEqual(['Eval loss', 1.21])
    expect(evaluationFacts(EVALUATION)).toContainEqual(['When', '2026-05-01 12:00'])
  })

  it('lists the facts that are known and flattens the recipe', () => {
    expect(cardFacts(CARD).map(([label]) => label)).toEqual(['Kind', 'Base model', 'Prompt style', 'Engine', 'Context', 'From', 'Created'])
    expect(cardFacts(CARD)).toContainEqual(['Created', '2026-05-01 10:00 UTC'])
    expect(cardFacts({ id: 'x', kind: 'chat', origin: 'config' })).toEqual([['Kind', 'chat'], ['From', 'configured (configs/models.yaml)']])
    expect(recipeRows(CARD.run.recipe)).toEqual([['steps', '200'], ['lora.r', '8'], ['lora.alpha', '16'], ['targets', 'q_proj, v_proj']])
  })
})

describe('ModelCardDialog', () => {
  async function openCard(card) {
    const app = appState({ modelCard: async () => card })
    app.cards.open(card.id)
    const wrapper = mount(ModelCardDialog, { attachTo: document.body, ...provideApp(app) })
    await settle()
    return { app, wrapper }
  }

  it("shows a run's facts, loss curve, evaluation with the seen/unseen rows, and recipe; Escape closes it", async () => {
    const { app } = await openCard(CARD)
    const dialog = document.querySelector('[data-testid="model-card"]')
    expect(dialog.getAttribute('role')).toBe('dialog')
    expect(dialog.querySelector('#card-title').textContent).toContain('tiny-run')
    expect(dialog.querySelector('[data-testid="card-facts"]').textContent).toContain('a fine-tuning run in models/runs')
    expect(dialog.querySelector('[data-testid="loss-curve"] svg').getAttribute('aria-label')).toMatch(/^Training loss 2.50/)
    expect(dialog.querySelectorAll('[data-testid="loss-curve"] polyline')).toHaveLength(2)
    const splits = [...dialog.querySelectorAll('[data-split]')].map((r) => [...r.children].map((c) => c.textContent).join(' '))
    expect(splits).toEqual(['All test examples 40 45% 60%', 'Training phrasings (seen) 20 60% 70%', 'Held-out phrasings (unseen) 20 30% 50%'])
    expect(dialog.querySelector('.recipe').textContent).toContain('lora.r')
    expect(document.activeElement.getAttribute('aria-label')).toBe('Close model card')
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }))
    expect(app.cards.state.openId).toBeNull()
  })

  it('offers a run\'s exports to an admin only', async () => {
    const { wrapper } = await openCard(CARD)
    expect(document.querySelector('[data-testid="run-exports"]')).toBeNull()
    wrapper.unmount()
    const app = appState({ modelCard: async () => CARD })
    app.account.state.admin = true
    app.cards.open(CARD.id)
    const admin = mount(ModelCardDialog, { attachTo: document.body, ...provideApp(app) })
    await settle()
    const buttons = [...document.querySelectorAll('[data-testid="run-exports"] button')].map((b) => b.textContent.trim())
    expect(buttons).toEqual(['GGUF Q8_0', 'GGUF Q4_0', 'OpenVINO int8', 'OpenVINO int4', 'Merged HF folder'])
    admin.unmount()
  })

  it("shows the latest benchmark scores of any model, a --limit run marked, and how to get them when there are none", async () => {
    const benchmarks = {
      mmlu: { acc: 0.2512, acc_norm: null, n: 100, limit: 20, data: 'data/benchmarks', created: '20261203-091500' },
      arc_easy: { acc: 0.5, acc_norm: 0.4231, n: 2376, limit: null, data: 'datasets cache', created: '20261203-091500' },
    }
    await openCard({ id: 'tiny-chat', kind: 'chat', origin: 'config', run: null, benchmarks })
    const rows = [...document.querySelectorAll('[data-testid="benchmarks"] tbody tr')].map((r) => [...r.children].map((c) => c.textContent).join(' '))
    expect(rows).toEqual(['arc_easy 2376 50.0% 42.3%', 'mmlu(limit) 100 25.1% –'])
    document.body.innerHTML = ''
    await openCard({ id: 'tiny-chat', kind: 'chat', origin: 'config', run: null, benchmarks: {} })
    expect(document.querySelector('[data-testid="no-benchmarks"]').textContent).toContain('llmchat evaluate --tasks arc_easy --models tiny-chat')
  })

  it("puts a run's benchmark after training beside its base's", async () => {
    const benchmarks = { tasks: ['arc_easy'], limit: null, base_model: 'tiny-chat', run: { arc_easy: { acc: 0.31, n: 100 } },
      base: { arc_easy: { acc: 0.36, n: 100 } } }
    await openCard({ ...CARD, run: { ...CARD.run, benchmarks } })
    const table = document.querySelector('[data-testid="run-benchmarks"]')
    expect(table.querySelector('thead').textContent).toContain('Base (tiny-chat)')
    expect([...table.querySelector('tbody tr').children].map((c) => c.textContent)).toEqual(['arc_easy', '100', '31.0%', '36.0%'])
  })

  it('says a configured model is no fine-tuning run, and a run without evaluation how to get one', async () => {
    await openCard({ id: 'tiny-chat', kind: 'chat', origin: 'config', run: null })
    expect(document.querySelector('[data-testid="no-run"]')).not.toBeNull()
    document.body.innerHTML = ''
    await openCard({ ...CARD, run: { ...CARD.run, evaluation: null } })
    expect(document.querySelector('[data-testid="no-evaluation"]').textContent).toContain('llmchat evaluate --models tiny-run')
  })
})

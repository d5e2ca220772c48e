// A reply's action row is one tab stop (a toolbar with a roving tabindex): one button in the tab order, the arrow
// keys and Home/End move along the row, focus remembers the button used last, and a button disabled later hands
// its tab stop on.
import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import MessageItem from '../src/components/MessageItem.vue'

const reply = (over) => ({ id: 7, role: 'assistant', content: 'Some text', model: 'tiny', status: 'complete', finish_reason: 'stop',
  usage: { completion_tokens: 12 }, response_time_ms: 1400, sibling_ids: [4, 7, 9], ...over })
const flush = () => new Promise((resolve) => setTimeout(resolve, 0)) // MutationObserver callbacks

function setup(props = {}) {
  const wrapper = mount(MessageItem, { props: { message: reply(), canRegenerate: true, ...props }, attachTo: document.body })
  const row = wrapper.get('[role="toolbar"]').element
  const buttons = () => [...row.querySelectorAll('button:not([disabled])')]
  const stops = () => buttons().filter((b) => b.tabIndex === 0)
  const press = (key) => document.activeElement.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }))
  return { wrapper, row, buttons, stops, press }
}

describe('action rows as toolbars', () => {
  it('puts one button of the row in the tab order and labels the row', () => {
    const { row, buttons, stops, wrapper } = setup()
    expect(row.getAttribute('aria-label')).toBe('Reply actions')
    expect(buttons().length).toBeGreaterThanOrEqual(4) // previous, next, copy, regenerate
    expect(stops()).toEqual([buttons()[0]])
    wrapper.unmount()
  })

  it('moves with the arrow keys and Home/End, and Tab comes back to the button used last', () => {
    const { buttons, stops, press, wrapper } = setup()
    buttons()[0].focus()
    press('ArrowRight')
    expect(document.activeElement).toBe(buttons()[1])
    press('End')
    expect(document.activeElement).toBe(buttons().at(-1))
    press('ArrowRight') // wraps around
    expect(document.activeElement).toBe(buttons()[0])
    press('ArrowLeft')
    expect(document.activeElement).toBe(buttons().at(-1))
    press('Home')
    press('ArrowRight')
    expect(stops()).toEqual([buttons()[1]]) // the row is entered again where it was left
    wrapper.unmount()
  })

  it('hands the tab stop on when its button is disabled', async () => {
    const { buttons, stops, wrapper } = setup()
    const regenerate = wrapper.get('[data-testid="regenerate"]').element
    regenerate.focus()
    expect(stops()).toEqual([regenerate])
    await wrapper.setProps({ busy: true }) // a reply is being written: Regenerate and the version buttons go
    await flush()
    expect(buttons()).not.toContain(regenerate)
    expect(stops()).toEqual([buttons()[0]])
    wrapper.unmount()
  })
})

// Keyboard use of dialogs and menus: Tab stays inside a modal, Escape gives focus back.
import { afterEach, describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { nextTick } from 'vue'
import ConfirmDialog from '../src/components/ConfirmDialog.vue'
import { trapTab } from '../src/lib/focusTrap.js'

const tab = (shiftKey = false) => {
  const event = new KeyboardEvent('keydown', { key: 'Tab', shiftKey, bubbles: true, cancelable: true })
  window.dispatchEvent(event)
  return event
}

afterEach(() => {
  document.body.innerHTML = ''
})

describe('trapTab', () => {
  it('wraps from the last element to the first and back, and pulls focus in from outside', () => {
    document.body.innerHTML = '<button id="out">out</button><div id="box"><button id="a">a</button><input id="b"><button id="c" disabled>c</button></div>'
    const box = document.getElementById('box')
    document.getElementById('b').focus()
    const forward = new KeyboardEvent('keydown', { key: 'Tab', cancelable: true })
    expect(trapTab(forward, box)).toBe(true)
    expect(forward.defaultPrevented).toBe(true)
    expect(document.activeElement.id).toBe('a')
    expect(trapTab(new KeyboardEvent('keydown', { key: 'Tab', shiftKey: true }), box)).toBe(true)
    expect(document.activeElement.id).toBe('b')
    document.getElementById('out').focus()
    trapTab(new KeyboardEvent('keydown', { key: 'Tab' }), box)
    expect(document.activeElement.id).toBe('a')
    expect(trapTab(new KeyboardEvent('keydown', { key: 'Enter' }), box)).toBe(false)
  })
})

describe('ConfirmDialog', () => {
  it('keeps Tab inside the dialog (Cancel <-> Delete)', async () => {
    const wrapper = mount(ConfirmDialog, { props: { title: 'Delete?', confirmLabel: 'Delete' }, attachTo: document.body })
    await nextTick()
    const [cancel, confirm] = document.querySelectorAll('.modal button')
    expect(document.activeElement).toBe(cancel)
    confirm.focus()
    expect(tab().defaultPrevented).toBe(true)
    expect(document.activeElement).toBe(cancel)
    tab(true)
    expect(document.activeElement).toBe(confirm)
    wrapper.unmount()
  })
})

// Keyboard use of dialogs and menus: Tab stays inside a modal, Escape gives focus back.
import { afterEach, describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { nextTick } from 'vue'
import ConfirmDialog from '../src/components/ConfirmDialog.vue'
import ConversationItem from '../src/components/ConversationItem.vue'
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

describe('ConversationItem export menu', () => {
  it('Escape closes the menu and puts focus back on the export button', async () => {
    const conversation = { id: 'c1', title: 'T', model: 'm', updated_at: new Date().toISOString() }
    const wrapper = mount(ConversationItem, { props: { conversation }, attachTo: document.body })
    await wrapper.get('[data-action="export"]').trigger('click')
    const item = wrapper.get('.menu a')
    item.element.focus()
    await item.trigger('keydown', { key: 'Escape' })
    expect(wrapper.find('.menu').exists()).toBe(false)
    expect(document.activeElement).toBe(wrapper.get('[data-action="export"]').element)
    wrapper.unmount()
  })
})

describe('ConversationItem rename', () => {
  it.each([['Escape', 'keydown'], ['Enter', 'submit']])('%s ends the rename with focus on the rename button', async (_, how) => {
    const conversation = { id: 'c2', title: 'T', model: 'm', updated_at: new Date().toISOString() }
    const wrapper = mount(ConversationItem, { props: { conversation }, attachTo: document.body })
    await wrapper.get('[data-action="rename"]').trigger('click')
    await wrapper.get('input').setValue('New')
    if (how === 'keydown') await wrapper.get('input').trigger('keydown', { key: 'Escape' })
    else await wrapper.get('form').trigger('submit')
    await nextTick()
    expect(wrapper.find('input').exists()).toBe(false)
    expect(document.activeElement).toBe(wrapper.get('[data-action="rename"]').element)
    wrapper.unmount()
  })
})

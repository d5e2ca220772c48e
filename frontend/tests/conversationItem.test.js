// A history entry: one tab stop, its actions (rename, export, delete) in a menu; inline rename.
import { afterEach, describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { nextTick } from 'vue'
import ConversationItem from '../src/components/ConversationItem.vue'
import HistoryList from '../src/components/HistoryList.vue'

const conversation = { id: 'c 1', title: 'Old title', model: 'tiny', models: ['tiny', 'tiny-lora'], kind: 'chat',
  updated_at: new Date().toISOString(), message_count: 2 }
const mountItem = (props = {}) => mount(ConversationItem, { props: { conversation, ...props }, attachTo: document.body })
const openMenu = async (wrapper) => {
  await wrapper.get('[data-action="menu"]').trigger('click')
  await nextTick()
}

afterEach(() => {
  document.body.innerHTML = ''
})

describe('ConversationItem', () => {
  it('links to the conversation (a compare session to the compare view) and names every model used', () => {
    const wrapper = mountItem()
    expect(wrapper.get('.conversation-link').attributes('href')).toBe('#/c/c%201')
    expect(wrapper.get('.conversation-meta').text()).toBe('just now · tiny + tiny-lora')
    const compare = mountItem({ conversation: { ...conversation, kind: 'compare' } })
    expect(compare.get('.conversation-link').attributes('href')).toBe('#/compare/c%201')
    expect(compare.get('.conversation-meta').text()).toContain('compare: tiny vs tiny-lora')
  })

  it('says "answering…" in place of the time while a reply of it is being written', () => {
    const wrapper = mountItem({ conversation: { ...conversation, answering: true } })
    expect(wrapper.get('[data-testid="answering"]').text()).toBe('answering…')
    expect(wrapper.get('.conversation-meta').text()).toBe('answering… · tiny + tiny-lora')
    expect(mountItem().find('[data-testid="answering"]').exists()).toBe(false)
  })

  it('is one tab stop: the menu button and menu items are out of the Tab order', async () => {
    const wrapper = mountItem()
    expect(wrapper.get('.conversation-link').attributes('tabindex')).toBe('0')
    expect(wrapper.get('[data-action="menu"]').attributes('tabindex')).toBe('-1')
    await openMenu(wrapper)
    expect(wrapper.findAll('[role="menuitem"]').map((m) => m.attributes('tabindex'))).toEqual(['-1', '-1', '-1', '-1'])
    expect(mountItem({ focusable: false }).get('.conversation-link').attributes('tabindex')).toBe('-1')
  })

  it('Right arrow opens the menu on its first item; arrows move; Escape closes it onto the entry', async () => {
    const wrapper = mountItem()
    const link = wrapper.get('.conversation-link')
    await link.trigger('keydown', { key: 'ArrowRight' })
    await nextTick()
    const items = wrapper.findAll('[role="menuitem"]')
    expect(items.map((i) => i.text())).toEqual(['Rename', 'Export as Markdown', 'Export as JSON', 'Delete'])
    expect(document.activeElement).toBe(items[0].element)
    await items[0].trigger('keydown', { key: 'ArrowUp' })
    expect(document.activeElement).toBe(items[3].element)
    await items[3].trigger('keydown', { key: 'Escape' })
    await nextTick()
    expect(wrapper.find('[role="menu"]').exists()).toBe(false)
    expect(document.activeElement).toBe(wrapper.get('.conversation-link').element)
  })

  it('offers both export formats', async () => {
    const wrapper = mountItem()
    await openMenu(wrapper)
    expect(wrapper.findAll('.menu a').map((a) => a.attributes('href'))).toEqual([
      '/api/conversations/c%201/export?format=markdown',
      '/api/conversations/c%201/export?format=json',
    ])
  })

  it('renames on Enter with the trimmed new title, focus back on the entry', async () => {
    const wrapper = mountItem()
    await openMenu(wrapper)
    await wrapper.get('[data-action="rename"]').trigger('click')
    await wrapper.get('input').setValue('  New title ')
    await wrapper.get('form').trigger('submit')
    await nextTick()
    expect(wrapper.emitted('rename')).toEqual([['New title']])
    expect(wrapper.find('input').exists()).toBe(false)
    expect(document.activeElement).toBe(wrapper.get('.conversation-link').element)
  })

  it('F2 renames; Escape cancels; an unchanged title is not sent', async () => {
    const wrapper = mountItem()
    await wrapper.get('.conversation-link').trigger('keydown', { key: 'F2' })
    await wrapper.get('input').setValue('Something else')
    await wrapper.get('input').trigger('keydown', { key: 'Escape' })
    expect(wrapper.find('input').exists()).toBe(false)
    await wrapper.get('.conversation-link').trigger('keydown', { key: 'F2' })
    await wrapper.get('form').trigger('submit')
    expect(wrapper.emitted('rename')).toBeUndefined()
  })

  it('asks the parent to delete (menu item or the Delete key)', async () => {
    const wrapper = mountItem()
    await openMenu(wrapper)
    await wrapper.get('[data-action="delete"]').trigger('click')
    await wrapper.get('.conversation-link').trigger('keydown', { key: 'Delete' })
    expect(wrapper.emitted('delete')).toHaveLength(2)
  })
})

describe('HistoryList (roving tabindex)', () => {
  const items = ['a', 'b', 'c'].map((id) => ({ ...conversation, id, title: id.toUpperCase() }))

  it('puts exactly one entry in the Tab order, the open one, and moves focus with the arrows', async () => {
    const wrapper = mount(HistoryList, { props: { items, activeId: 'b' }, attachTo: document.body })
    const stops = () => wrapper.findAll('.conversation-link').map((a) => a.attributes('tabindex'))
    expect(stops()).toEqual(['-1', '0', '-1'])
    await wrapper.findAll('.conversation-link')[1].trigger('keydown', { key: 'ArrowDown' })
    await nextTick()
    await nextTick()
    expect(stops()).toEqual(['-1', '-1', '0'])
    expect(document.activeElement).toBe(wrapper.findAll('.conversation-link')[2].element)
    await wrapper.findAll('.conversation-link')[2].trigger('keydown', { key: 'ArrowDown' }) // stays on the last
    await wrapper.findAll('.conversation-link')[2].trigger('keydown', { key: 'Home' })
    await nextTick()
    await nextTick()
    expect(stops()).toEqual(['0', '-1', '-1'])
    expect(document.activeElement).toBe(wrapper.findAll('.conversation-link')[0].element)
  })
})

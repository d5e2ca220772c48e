// A history entry: inline rename (Enter saves, Escape cancels), delete asks the parent, export links.
import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ConversationItem from '../src/components/ConversationItem.vue'

const conversation = { id: 'c 1', title: 'Old title', model: 'tiny', updated_at: new Date().toISOString(), message_count: 2 }

describe('ConversationItem', () => {
  it('links to the conversation and offers both export formats', async () => {
    const wrapper = mount(ConversationItem, { props: { conversation } })
    expect(wrapper.get('.conversation-link').attributes('href')).toBe('#/c/c%201')
    await wrapper.get('[data-action="export"]').trigger('click')
    expect(wrapper.findAll('.menu a').map((a) => a.attributes('href'))).toEqual([
      '/api/conversations/c%201/export?format=markdown',
      '/api/conversations/c%201/export?format=json',
    ])
  })

  it('renames on Enter with the trimmed new title', async () => {
    const wrapper = mount(ConversationItem, { props: { conversation } })
    await wrapper.get('[data-action="rename"]').trigger('click')
    const input = wrapper.get('input')
    await input.setValue('  New title ')
    await wrapper.get('form').trigger('submit')
    expect(wrapper.emitted('rename')).toEqual([['New title']])
    expect(wrapper.find('input').exists()).toBe(false)
  })

  it('cancels the rename on Escape and ignores an unchanged title', async () => {
    const wrapper = mount(ConversationItem, { props: { conversation } })
    await wrapper.get('[data-action="rename"]').trigger('click')
    await wrapper.get('input').setValue('Something else')
    await wrapper.get('input').trigger('keydown', { key: 'Escape' })
    expect(wrapper.find('input').exists()).toBe(false)
    await wrapper.get('[data-action="rename"]').trigger('click')
    await wrapper.get('form').trigger('submit')
    expect(wrapper.emitted('rename')).toBeUndefined()
  })

  it('asks the parent to delete (the parent shows the confirm dialog)', async () => {
    const wrapper = mount(ConversationItem, { props: { conversation } })
    await wrapper.get('[data-action="delete"]').trigger('click')
    expect(wrapper.emitted('delete')).toHaveLength(1)
  })
})

// What a message says about itself: cut off (with Continue), empty, token counts, versions, Edit.
import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { nextTick } from 'vue'
import MessageItem from '../src/components/MessageItem.vue'

const reply = (over) => ({ id: 4, role: 'assistant', content: 'Some text', model: 'tiny', status: 'complete', finish_reason: 'stop',
  usage: { completion_tokens: 12 }, response_time_ms: 1400, sibling_ids: [4], ...over })

describe('MessageItem', () => {
  it('marks a reply cut off at max_tokens and offers Continue', async () => {
    const wrapper = mount(MessageItem, { props: { message: reply({ finish_reason: 'length', params: { max_tokens: 256 } }) } })
    expect(wrapper.get('[data-testid="cut-off"]').text()).toBe('cut off')
    expect(wrapper.get('[data-testid="cut-off-note"]').text()).toContain('(256)')
    await wrapper.get('[data-testid="continue"]').trigger('click')
    expect(wrapper.emitted('continue')).toHaveLength(1)
    const finished = mount(MessageItem, { props: { message: reply() } })
    expect(finished.find('[data-testid="continue"]').exists()).toBe(false)
    expect(finished.find('[data-testid="cut-off"]').exists()).toBe(false)
  })

  it('marks the text of a streaming reply (the cursor is drawn after its last line) and drops the mark when it ends', async () => {
    const wrapper = mount(MessageItem, { props: { message: reply({ status: 'streaming', content: 'Half a' }) } })
    expect(wrapper.get('.markdown').classes()).toContain('streaming')
    expect(wrapper.find('.cursor').exists()).toBe(false)
    await wrapper.setProps({ message: reply({ content: 'Half a sentence.' }) })
    expect(wrapper.get('.markdown').classes()).not.toContain('streaming')
  })

  it('says an empty reply is empty and counts one token in the singular', () => {
    const wrapper = mount(MessageItem, { props: { message: reply({ content: '', usage: { completion_tokens: 1 } }) } })
    expect(wrapper.get('[data-testid="empty-reply"]').text()).toMatch(/empty reply/)
    expect(wrapper.get('[data-testid="message-meta"]').text()).toContain('1 token')
    expect(wrapper.get('[data-testid="message-meta"]').text()).not.toContain('1 tokens')
  })

  it('shows "2 / 3" with Previous/Next version buttons only when there are versions', async () => {
    const wrapper = mount(MessageItem, { props: { message: reply({ id: 7, sibling_ids: [4, 7, 9] }) } })
    expect(wrapper.get('[data-testid="version-label"]').text()).toBe('2 / 3')
    await wrapper.get('[aria-label="Previous version"]').trigger('click')
    await wrapper.get('[aria-label="Next version"]').trigger('click')
    expect(wrapper.emitted('version')).toEqual([[4], [9]])
    expect(mount(MessageItem, { props: { message: reply() } }).find('[data-testid="versions"]').exists()).toBe(false)
  })

  it('edits a user message in place and sends the new text (unchanged text sends nothing)', async () => {
    const message = { id: 3, role: 'user', content: 'old', status: 'complete', parent_id: 2, sibling_ids: [3] }
    const wrapper = mount(MessageItem, { props: { message, canEdit: true }, attachTo: document.body })
    await wrapper.get('button[aria-label="Edit"]').trigger('click')
    await nextTick()
    await wrapper.get('textarea').setValue('old')
    await wrapper.get('form').trigger('submit')
    expect(wrapper.emitted('edit')).toBeUndefined()
    await wrapper.get('button[aria-label="Edit"]').trigger('click')
    await wrapper.get('textarea').setValue('new text')
    await wrapper.get('textarea').trigger('keydown', { key: 'Enter' })
    expect(wrapper.emitted('edit')).toEqual([['new text']])
    expect(wrapper.find('textarea').exists()).toBe(false)
    wrapper.unmount()
  })

  it('shows "Not answered" only while the message has no reply', () => {
    const message = { id: 3, role: 'user', content: 'q', status: 'error', sibling_ids: [3] }
    expect(mount(MessageItem, { props: { message, unanswered: true, canRegenerate: true } }).find('[data-testid="retry"]').exists()).toBe(true)
    expect(mount(MessageItem, { props: { message, unanswered: false } }).find('[data-testid="not-answered"]').exists()).toBe(false)
  })
})

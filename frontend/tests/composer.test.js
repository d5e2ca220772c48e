// Composer keys: Enter sends, Shift+Enter makes a new line, nothing is sent while busy.
import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { nextTick } from 'vue'
import ChatComposer from '../src/components/ChatComposer.vue'

async function typed(wrapper, text) {
  const box = wrapper.get('textarea')
  await box.setValue(text)
  return box
}

describe('ChatComposer', () => {
  it('sends on Enter and clears the box', async () => {
    const wrapper = mount(ChatComposer)
    const box = await typed(wrapper, 'hello there')
    await box.trigger('keydown', { key: 'Enter' })
    expect(wrapper.emitted('send')).toEqual([['hello there']])
    expect(box.element.value).toBe('')
  })

  it('does not send on Shift+Enter', async () => {
    const wrapper = mount(ChatComposer)
    const box = await typed(wrapper, 'line one')
    const event = await box.trigger('keydown', { key: 'Enter', shiftKey: true })
    expect(wrapper.emitted('send')).toBeUndefined()
    expect(box.element.value).toBe('line one')
    expect(event).toBeUndefined()
  })

  it('does not send while an IME composition is open', async () => {
    const wrapper = mount(ChatComposer)
    const box = await typed(wrapper, 'にほん')
    await box.trigger('keydown', { key: 'Enter', isComposing: true })
    expect(wrapper.emitted('send')).toBeUndefined()
  })

  it('ignores empty or whitespace-only messages', async () => {
    const wrapper = mount(ChatComposer)
    const box = await typed(wrapper, '   \n ')
    await box.trigger('keydown', { key: 'Enter' })
    expect(wrapper.emitted('send')).toBeUndefined()
  })

  it('is locked and shows Stop while busy', async () => {
    const wrapper = mount(ChatComposer, { props: { busy: true } })
    expect(wrapper.get('textarea').element.disabled).toBe(true)
    await wrapper.get('[data-testid="stop"]').trigger('click')
    expect(wrapper.emitted('stop')).toHaveLength(1)
    expect(wrapper.find('[data-testid="send"]').exists()).toBe(false)
  })

  it('takes focus back when the reply ends, but not from something the user focused meanwhile', async () => {
    const outside = document.createElement('button')
    document.body.appendChild(outside)
    const wrapper = mount(ChatComposer, { props: { busy: true }, attachTo: document.body })
    outside.focus()
    await wrapper.setProps({ busy: false })
    await nextTick()
    expect(document.activeElement).toBe(outside)
    await wrapper.setProps({ busy: true })
    outside.blur() // e.g. Stop was pressed and removed: focus fell back to the page
    await wrapper.setProps({ busy: false })
    await nextTick()
    expect(document.activeElement).toBe(wrapper.get('textarea').element)
    wrapper.unmount()
    outside.remove()
  })

  it('gives text back after an error without overwriting new typing', async () => {
    const wrapper = mount(ChatComposer)
    wrapper.vm.setText('my long question')
    await wrapper.vm.$nextTick()
    expect(wrapper.get('textarea').element.value).toBe('my long question')
    await typed(wrapper, 'something newer')
    wrapper.vm.setText('my long question')
    await wrapper.vm.$nextTick()
    expect(wrapper.get('textarea').element.value).toBe('something newer')
  })
})

describe('ChatComposer length limit', () => {
  it('shows a live counter near the limit and disables Send over it (Enter does not send)', async () => {
    const wrapper = mount(ChatComposer, { props: { maxChars: 100 } })
    await typed(wrapper, 'x'.repeat(50))
    expect(wrapper.find('[data-testid="char-counter"]').exists()).toBe(false)
    await typed(wrapper, 'x'.repeat(85))
    expect(wrapper.get('[data-testid="char-counter"]').text()).toBe('85 / 100')
    expect(wrapper.get('[data-testid="send"]').attributes('disabled')).toBeUndefined()
    const box = await typed(wrapper, 'x'.repeat(101))
    expect(wrapper.get('[data-testid="char-counter"]').text()).toBe('1 character over the limit of 100: shorten it to send.')
    expect(wrapper.get('[data-testid="send"]').attributes('disabled')).toBeDefined()
    expect(box.attributes('aria-invalid')).toBe('true')
    await box.trigger('keydown', { key: 'Enter' })
    expect(wrapper.emitted('send')).toBeUndefined()
    expect(box.element.value).toHaveLength(101)
  })
})

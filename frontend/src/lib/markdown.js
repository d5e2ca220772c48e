// Markdown -> safe HTML. markdown-it never passes raw HTML through (html: false) and refuses
// javascript:/vbscript:/data: links; DOMPurify then cleans the result once more, so nothing a model
// (or a prompt injection) writes can run script in the page.
import MarkdownIt from 'markdown-it'
import DOMPurify from 'dompurify'
import hljs from 'highlight.js/lib/common'

const md = new MarkdownIt({ html: false, linkify: true, breaks: false, typographer: false })

function escapeHtml(text) {
  return md.utils.escapeHtml(text)
}

function highlight(code, lang) {
  if (lang && hljs.getLanguage(lang)) {
    return hljs.highlight(code, { language: lang, ignoreIllegals: true }).value
  }
  // No (known) language: let highlight.js guess on bigger snippets, plain text for one-liners.
  if (code.length > 40) return hljs.highlightAuto(code).value
  return escapeHtml(code)
}

// Code blocks get a header with the language and a copy button (wired up by MarkdownContent.vue).
md.renderer.rules.fence = (tokens, idx) => {
  const token = tokens[idx]
  const lang = (token.info || '').trim().split(/\s+/)[0].toLowerCase()
  const label = lang || 'text'
  const body = highlight(token.content, lang)
  return (
    `<div class="code-block"><div class="code-head"><span class="code-lang">${escapeHtml(label)}</span>` +
    `<button type="button" class="copy-code" aria-label="Copy code">Copy</button></div>` +
    // tabindex: a wide block scrolls sideways, and a keyboard user must be able to scroll it too
    `<pre tabindex="0" aria-label="${escapeHtml(label)} code"><code class="hljs language-${escapeHtml(label)}">${body}</code></pre></div>`
  )
}
md.renderer.rules.code_block = md.renderer.rules.fence

// Images become links: an <img> would be fetched as soon as it renders, so a prompt-injected reply
// could send chat text to any server in its URL. A link loads only when the reader chooses to.
md.renderer.rules.image = (tokens, idx, options, env, slf) => {
  const token = tokens[idx]
  const src = token.attrGet('src') || ''
  const alt = slf.renderInlineAsText(token.children || [], options, env).trim()
  return `<a href="${escapeHtml(src)}" class="image-link">Image: ${escapeHtml(alt || src)}</a>`
}

// Tables scroll sideways on narrow screens instead of breaking the layout.
md.renderer.rules.table_open = () => '<div class="table-wrap" tabindex="0"><table>'
md.renderer.rules.table_close = () => '</table></div>'

const SAFE_URL = /^(https?:|mailto:|#|\/)/i

let hooksInstalled = false
function installHooks() {
  if (hooksInstalled) return
  hooksInstalled = true
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A') {
      const href = node.getAttribute('href') || ''
      if (!SAFE_URL.test(href.trim())) node.removeAttribute('href')
      node.setAttribute('target', '_blank')
      node.setAttribute('rel', 'noopener noreferrer nofollow')
    }
  })
}

/** DOMPurify with the tags markdown needs; event handlers, script, style, iframes and images never survive. */
export function sanitizeHtml(html) {
  installHooks()
  return DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ['style', 'script', 'iframe', 'object', 'embed', 'form', 'input', 'img'],
    FORBID_ATTR: ['style'],
    ADD_ATTR: ['target'],
  })
}

export function renderMarkdown(text) {
  return sanitizeHtml(md.render(text || ''))
}

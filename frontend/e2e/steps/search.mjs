// Search over message text (not only titles): highlighted snippets, and a hit opens its conversation at the message.
import { assert } from '../browser.mjs'

export async function search({ page, step, h, shared }) {
  await step('search finds words inside messages, highlights them, and opens the conversation (and branch) at the message', async () => {
    await h.newChat()
    await h.sendAndWait('Where do zebracorns live? Asking for a friend.')
    const id = h.conversationIdFromUrl()
    await h.newChat()
    await page.locator('#conversation-search').fill('zebracorns')
    const hit = page.locator('[data-testid="search-hit"]').first()
    await hit.waitFor()
    assert((await hit.locator('mark').first().innerText()).toLowerCase().includes('zebracorn'), 'the match is highlighted')
    assert((await hit.locator('.hit-snippet').innerText()).includes('Asking for a friend'), 'the snippet shows the words around it')
    const messageId = await hit.getAttribute('data-message-id')
    await hit.click()
    await page.waitForFunction((cid) => location.hash === `#/c/${encodeURIComponent(cid)}`, id)
    const found = page.locator(`article[data-message-id="${messageId}"]`)
    await found.waitFor()
    assert(await found.isVisible(), 'the message is on screen')
    assert(await found.evaluate((el) => el.classList.contains('found')), 'and marked as the hit')
    if (shared.treeId) {
      // A hit on a branch that is not on screen (the edited first message, after switching back to version 1)
      // opens that branch.
      await page.locator('#conversation-search').fill('Tree question edited')
      const branchHit = page.locator(`[data-testid="search-hit"][href$="${encodeURIComponent(shared.treeId)}"]`).first()
      await branchHit.waitFor()
      await branchHit.click()
      const user = h.thread().locator('article[data-role="user"]').first()
      await user.locator('.user-text', { hasText: 'Tree question edited' }).waitFor()
      assert((await user.locator('[data-testid="version-label"]').innerText()) === '2 / 2', 'the edited branch is on screen')
    }
    await page.locator('#conversation-search').fill('qqqxxqqq')
    await page.locator('[data-testid="search-results"]', { hasText: 'No message contains' }).waitFor()
    await page.locator('#conversation-search').press('Escape')
    assert((await page.locator('#conversation-search').inputValue()) === '', 'Escape empties the search')
    await page.locator('[data-testid="search-results"]').waitFor({ state: 'detached' })
  })
}

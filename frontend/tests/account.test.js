import { describe, expect, it, vi } from 'vitest'
import { createAccount } from '../src/stores/account.js'

function fakeApi(me) {
  return {
    me: vi.fn(async () => ({ ...me })),
    signIn: vi.fn(async () => ({})),
    signUp: vi.fn(async () => ({ status: 'pending' })),
    signOut: vi.fn(async () => {}),
  }
}

describe('account store', () => {
  it('asks for a sign-in only with local accounts and nobody signed in', async () => {
    const nobody = createAccount({ api: fakeApi({ identity: null, name: null, admin: false, mode: 'accounts', signup: 'open' }) })
    expect(nobody.needsSignIn()).toBe(false) // not known yet: no flash of the sign-in page
    await nobody.load()
    expect(nobody.needsSignIn()).toBe(true)
    const address = createAccount({ api: fakeApi({ identity: 'ip:127.0.0.1', name: '127.0.0.1', admin: true, mode: 'ip', signup: 'closed' }) })
    await address.load()
    expect(address.needsSignIn()).toBe(false)
    expect(address.state.admin).toBe(true)
    const unnamed = createAccount({ api: fakeApi({ identity: null, name: null, admin: false, mode: 'header', signup: 'closed' }) })
    await unnamed.load()
    expect(unnamed.needsSignIn()).toBe(true) // the proxy named no one: the page says to come through it
  })

  it('a pending sign-up does not sign in; a sign-in reloads who is asking', async () => {
    const api = fakeApi({ identity: null, name: null, admin: false, mode: 'accounts', signup: 'approval' })
    const account = createAccount({ api })
    expect(await account.signUp('erin', 'long password')).toBe('pending')
    expect(api.me).not.toHaveBeenCalled()
    api.me.mockResolvedValue({ identity: 'user:erin', name: 'erin', admin: false, mode: 'accounts', signup: 'approval' })
    await account.signIn('erin', 'long password')
    expect(api.signIn).toHaveBeenCalledWith('erin', 'long password')
    expect(account.state.identity).toBe('user:erin')
    expect(account.needsSignIn()).toBe(false)
  })
})

// The signed-in caller (GET /api/me): who, whether an admin, how one signs in here. A caller the server does not
// know (accounts mode: nobody signed in; header mode: the sign-in proxy named no one) sees the sign-in page instead
// of the app.
import { reactive } from 'vue'

export function createAccount({ api }) {
  const state = reactive({ loaded: false, identity: null, name: null, admin: false, mode: 'ip', signup: 'closed' })

  async function load() {
    Object.assign(state, await api.me(), { loaded: true })
  }

  return {
    state,
    load,
    needsSignIn: () => state.loaded && state.mode !== 'ip' && !state.identity,
    async signIn(name, password) {
      await api.signIn(name, password)
      await load()
    },
    /** -> 'active' (signed in) or 'pending' (an admin must approve the account first) */
    async signUp(name, password) {
      const account = await api.signUp(name, password)
      if (account.status === 'active') await load()
      return account.status
    },
    async signOut() {
      await api.signOut()
      await load()
    },
  }
}

// Who is signed in, sign-in/up/out, password, personal API keys, usage and the Admin page's data (docs/api.md).
import { call, http } from './client.js'

export const accountApi = {
  me: () => call(http.get('/me')),
  signIn: (name, password) => call(http.post('/auth/signin', { name, password })),
  signUp: (name, password) => call(http.post('/auth/signup', { name, password })),
  signOut: () => call(http.post('/auth/signout')),
  changePassword: (current, next) =>
    call(http.post('/auth/password', { current_password: current, new_password: next })),
  keys: () => call(http.get('/keys')).then((data) => data.keys || []),
  /** -> the new key's record with `key`: the only time the key itself is ever shown. */
  createKey: (name) => call(http.post('/keys', { name })),
  revokeKey: (id) => call(http.delete(`/keys/${encodeURIComponent(id)}`)),
  usage: (days = 30) => call(http.get('/usage', { params: { days } })),
  adminUsers: () => call(http.get('/admin/users')).then((data) => data.users || []),
  updateUser: (name, changes) => call(http.patch(`/admin/users/${encodeURIComponent(name)}`, changes)),
  adminUsage: (days = 30) => call(http.get('/admin/usage', { params: { days } })),
  /** action: 'load' | 'unload' — on the model's server, now (a load may take minutes on a first export) */
  modelResidency: (id, action) => call(http.post(`/admin/models/${encodeURIComponent(id)}/${action}`)),
}

// Builds the app's stores once and hands them to components through provide/inject.
import { inject } from 'vue'
import { api } from '../api/client.js'
import { createChatSession } from './chatSession.js'
import { createConversations } from './conversations.js'
import { createModels } from './models.js'
import { createRouter } from './router.js'
import { createSettingsStore } from './settings.js'
import { createToasts } from './toasts.js'

export const APP_KEY = Symbol('llmchat-app')

export function createAppState() {
  const toasts = createToasts()
  const conversations = createConversations({ api })
  const refreshList = () => conversations.load().catch(() => {})
  return {
    api,
    toasts,
    conversations,
    refreshList,
    models: createModels({ api }),
    settings: createSettingsStore(),
    router: createRouter(),
    chat: createChatSession({ api, onTurnFinished: refreshList }),
    // The compare view's two threads live here so they survive switching views.
    compare: {
      left: createChatSession({ api, onTurnFinished: refreshList }),
      right: createChatSession({ api, onTurnFinished: refreshList }),
    },
  }
}

export function useApp() {
  return inject(APP_KEY)
}

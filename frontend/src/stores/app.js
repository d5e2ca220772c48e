// Builds the app's stores once and hands them to components through provide/inject.
import { inject } from 'vue'
import { api } from '../api/client.js'
import { accountApi } from '../api/account.js'
import { createAccount } from './account.js'
import { createChatSession } from './chatSession.js'
import { createCompareSession } from './compareSession.js'
import { createConversations } from './conversations.js'
import { createFeedback } from './feedback.js'
import { createLeaderboard } from './leaderboard.js'
import { createLimits } from './limits.js'
import { createModelCards } from './modelCards.js'
import { createModels } from './models.js'
import { createRouter } from './router.js'
import { createSearch } from './search.js'
import { createSettingsStore } from './settings.js'
import { createToasts } from './toasts.js'
import { safeStorage } from '../lib/storage.js'

export const APP_KEY = Symbol('llmchat-app')

export function createAppState() {
  const toasts = createToasts()
  const conversations = createConversations({ api })
  const limits = createLimits({ api })
  const refreshList = () => conversations.load().catch(() => {})
  const models = createModels({ api })
  // after a reply its model is loaded (and another may have been unloaded for it): the picker shows it
  const onTurnFinished = () => {
    refreshList()
    models.refresh({ force: true })
  }
  // a reply has begun (or is followed again): the history shows its conversation, "answering…"
  const turns = { onTurnStarted: refreshList, onTurnFinished, onTitle: conversations.setTitle, needsLoad: models.needsLoad }
  return {
    api,
    accountApi,
    account: createAccount({ api: accountApi }),
    toasts,
    conversations,
    refreshList,
    limits,
    search: createSearch({ api }),
    models,
    feedback: createFeedback({ api }),
    leaderboard: createLeaderboard({ api }),
    cards: createModelCards({ api }),
    settings: createSettingsStore(safeStorage(), limits.range),
    router: createRouter(),
    chat: createChatSession({ api, ...turns }),
    // The compare session lives here so it survives switching views.
    compare: createCompareSession({ api, ...turns }),
  }
}

export function useApp() {
  return inject(APP_KEY)
}

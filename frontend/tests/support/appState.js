// Mount components with the app's real stores over a stand-in API (only the calls a test makes).
import { APP_KEY } from '../../src/stores/app.js'
import { createAccount } from '../../src/stores/account.js'
import { createFeedback } from '../../src/stores/feedback.js'
import { createLeaderboard } from '../../src/stores/leaderboard.js'
import { createModelCards } from '../../src/stores/modelCards.js'
import { createModels } from '../../src/stores/models.js'
import { createCompareSession } from '../../src/stores/compareSession.js'
import { createLimits } from '../../src/stores/limits.js'
import { createToasts } from '../../src/stores/toasts.js'

export function appState(api = {}) {
  return {
    api,
    toasts: createToasts(),
    feedback: createFeedback({ api }),
    leaderboard: createLeaderboard({ api }),
    cards: createModelCards({ api }),
    models: createModels({ api }),
    compare: createCompareSession({ api }),
    limits: createLimits({ api }),
    account: createAccount({ api }), // nobody known: not an admin
  }
}

export const provideApp = (app) => ({ global: { provide: { [APP_KEY]: app } } })

/** Resolve pending promises and let Vue re-render. */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

import { createApp } from 'vue'
import App from './App.vue'
import { APP_KEY, createAppState } from './stores/app.js'
import './styles/theme.css'
import './styles/base.css'
import './styles/chat.css'
import './styles/markdown.css'
import './styles/feedback.css'
import './styles/leaderboard.css'
import './styles/account.css'
import './styles/runs.css'

createApp(App).provide(APP_KEY, createAppState()).mount('#app')

// Vite config: the Vue plugin, the /api proxy for `npm run dev` / `vite preview`, and vitest's jsdom setup.
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// Where the chat API listens; the e2e wrapper points this at the API it started on a free port.
const apiTarget = process.env.LLMCHAT_API_URL || 'http://127.0.0.1:5000'
// changeOrigin: false keeps the browser's Host (localhost:5173), which matches the Origin it sends: the API serves
// an allowed Host only and refuses state-changing requests from another origin (docs/configuration.md)
const proxy = { '/api': { target: apiTarget, changeOrigin: false } }

export default defineConfig({
  plugins: [vue()],
  server: { proxy },
  preview: { proxy },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1200 },
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.test.js'],
  },
})

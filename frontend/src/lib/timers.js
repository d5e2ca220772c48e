// The browser's timers, to hand to stores that wait (tests give them fake ones). They must be called as functions
// of the window, never as methods of another object (Chromium: "Illegal invocation").
export const WINDOW_TIMERS = { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (id) => clearTimeout(id) }

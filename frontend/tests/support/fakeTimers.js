// Timers a test fires by hand: `planned` lists what a store asked to run later ({ fn, ms }); fireNext runs the first.
export function fakeTimers() {
  const planned = []
  return {
    planned,
    setTimeout: (fn, ms) => planned.push({ fn, ms }) && planned.length,
    clearTimeout: () => {},
    async fireNext() {
      await planned.shift().fn()
    },
  }
}

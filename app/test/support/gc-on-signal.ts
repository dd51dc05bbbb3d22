/*
 * A test-only preload for a spawned server process started with --expose-gc: SIGUSR2 runs a
 * full garbage collection, so a memory check compares the live heap before and after a load,
 * not whatever garbage V8 happened not to have collected yet (an idle process collects nothing).
 */
process.on('SIGUSR2', () => {
  (globalThis as { gc?: () => void }).gc?.();
});

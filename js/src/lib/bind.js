// Model <-> view plumbing shared by the widgets' bind functions: trait
// listeners that can be removed in one call, and redraws coalesced to one
// per animation frame.

/** Call `fn` when any of `traits` changes; returns the function that removes the listeners. */
export function onTraits(model, traits, fn) {
  for (const t of traits) model.on(`change:${t}`, fn);
  return () => {
    for (const t of traits) model.off(`change:${t}`, fn);
  };
}

/**
 * Run `fn` at most once per animation frame: `request()` schedules it (a
 * no-op while a frame is pending), `now()` runs it at once, `cancel()` drops
 * a pending frame.
 */
export function frameScheduler(fn) {
  let frame = 0;
  const now = () => {
    frame = 0;
    fn();
  };
  return {
    request() {
      if (!frame) frame = requestAnimationFrame(now);
    },
    now,
    cancel() {
      if (frame) cancelAnimationFrame(frame);
      frame = 0;
    },
  };
}

/** Run `draw()`; if it throws, show "drawing failed: ..." in the status line. */
export function drawOrReport(status, draw) {
  try {
    draw();
  } catch (err) {
    status.el.textContent = `drawing failed: ${err}`;
    status.el.style.display = "block";
  }
}

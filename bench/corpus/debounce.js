// debounce.js - debounce and throttle helpers for the search box and the
// scroll listener of the catalogue page.

export function debounce(fn, wait, { leading = false, maxWait } = {}) {
  let timer = null;
  let lastArgs;
  let lastThis;
  let firstCall = 0;

  function invoke() {
    const args = lastArgs;
    const ctx = lastThis;
    lastArgs = lastThis = undefined;
    firstCall = 0;
    return fn.apply(ctx, args);
  }

  function debounced(...args) {
    lastArgs = args;
    lastThis = this;
    const now = Date.now();
    if (!firstCall) firstCall = now;
    if (timer === null && leading) {
      timer = setTimeout(() => { timer = null; }, wait);
      return invoke();
    }
    clearTimeout(timer);
    if (maxWait !== undefined && now - firstCall >= maxWait) {
      timer = null;
      return invoke();
    }
    timer = setTimeout(() => {
      timer = null;
      if (lastArgs) invoke();
    }, wait);
  }

  debounced.cancel = () => {
    clearTimeout(timer);
    timer = null;
    lastArgs = lastThis = undefined;
    firstCall = 0;
  };
  debounced.flush = () => (lastArgs ? invoke() : undefined);
  return debounced;
}

export function throttle(fn, interval) {
  let last = 0;
  let pending = null;
  return function throttled(...args) {
    const now = Date.now();
    const remaining = interval - (now - last);
    if (remaining <= 0) {
      last = now;
      fn.apply(this, args);
    } else if (!pending) {
      pending = setTimeout(() => {
        pending = null;
        last = Date.now();
        fn.apply(this, args);
      }, remaining);
    }
  };
}

"use strict";
// Filter and sort the provider overview in place. The controls live outside
// <main id="status">, so their values survive the live page swapping <main>;
// refresh.js announces each swap with a "harness:updated" event.
(() => {
  const form = document.getElementById("controls");
  if (!form) return;
  const { q, state, sort, reverse } = form.elements;
  const count = document.getElementById("shown");
  const keys = {
    name: (p) => p.dataset.name,
    state: (p) => Number(p.dataset.rank),
    latency: (p) => (p.dataset.ttfc === "" ? null : Number(p.dataset.ttfc)),
  };
  function order(key, reversed) {
    const value = keys[key] || keys.name;
    return (a, b) => {
      const x = value(a);
      const y = value(b);
      if (x === null || y === null) {
        if (x !== y) return x === null ? 1 : -1; // unmeasured last, either way
      } else if (x !== y) {
        return (x < y ? -1 : 1) * (reversed ? -1 : 1);
      }
      return a.dataset.name < b.dataset.name ? -1 : a.dataset.name > b.dataset.name ? 1 : 0;
    };
  }
  function apply() {
    const list = document.getElementById("providers");
    if (!list) return;
    const providers = Array.from(list.children);
    const words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const p of providers) {
      const match =
        words.every((w) => p.dataset.search.includes(w)) &&
        (!state.value || p.dataset.states.split(" ").includes(state.value));
      p.hidden = !match;
      if (match) shown += 1;
    }
    const sorted = [...providers].sort(order(sort.value, reverse.checked));
    // Moving nodes only when the order changed: a move between a press and its
    // release on a row would swallow the click.
    if (sorted.some((p, i) => p !== providers[i])) list.append(...sorted);
    count.value = `${shown} of ${sorted.length} providers shown`;
    const none = document.getElementById("no-match");
    if (none) none.hidden = shown > 0 || sorted.length === 0;
  }
  function openTarget() {
    const target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target instanceof HTMLDetailsElement) target.open = true;
  }
  form.addEventListener("input", apply); // text, select and checkbox all send "input"
  form.addEventListener("submit", (event) => event.preventDefault());
  document.addEventListener("harness:updated", apply);
  window.addEventListener("hashchange", openTarget);
  form.hidden = false;
  apply();
  openTarget();
})();

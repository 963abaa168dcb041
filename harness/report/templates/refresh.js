"use strict";
(() => {
  const every = Number(document.body.dataset.refresh) * 1000;
  const url = document.body.dataset.fragment;
  const note = document.getElementById("live");
  if (!every || !url || !note) return;
  async function refresh() {
    try {
      const response = await fetch(url, { cache: "no-store", headers: { Accept: "text/html" } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      // DOMParser never runs scripts, and the fragment is escaped server-side.
      const parsed = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = parsed.getElementById("status");
      const current = document.getElementById("status");
      if (!fresh || !current) throw new Error("no status in the update");
      // Keep what the reader opened, and the keyboard focus, across the swap.
      for (const details of current.querySelectorAll("details[open][id]")) {
        const twin = fresh.querySelector(`details[id="${CSS.escape(details.id)}"]`);
        if (twin) twin.open = true;
      }
      const focused = current.contains(document.activeElement)
        ? document.activeElement.closest("details[id]")
        : null;
      current.replaceWith(fresh);
      document.dispatchEvent(new Event("harness:updated"));
      if (focused) document.getElementById(focused.id)?.querySelector("summary")?.focus();
      note.textContent = `live: updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      note.textContent = `live: update failed (${error.message}), retrying`;
    }
  }
  setInterval(refresh, every);
})();

"use strict";
// The live page: a provider's details are fetched when its row is opened, and every
// N seconds the content is refreshed. The refresh names the content it has (its etag):
// the server answers 304 when nothing changed, else a <main> whose unchanged rows are
// empty stand-ins (data-kept), filled here from the rows already on the page.
(() => {
  const every = Number(document.body.dataset.refresh) * 1000;
  const url = document.body.dataset.fragment;
  const note = document.getElementById("live");
  if (!every || !url || !note) return;

  async function loadDetails(row) {
    const link = row.querySelector(":scope > .details-link");
    if (!link || link.dataset.loading) return;
    link.dataset.loading = "1";
    try {
      const response = await fetch(link.dataset.details, { cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      // DOMParser never runs scripts, and the details are escaped server-side.
      const parsed = new DOMParser().parseFromString(await response.text(), "text/html");
      const details = parsed.body.querySelector(".provider-details");
      if (!details) throw new Error("no details in the answer");
      if (link.isConnected) link.replaceWith(details);
    } catch (error) {
      delete link.dataset.loading;
      link.append(` (could not load: ${error.message})`);
    }
  }
  // "toggle" does not bubble: listen while it is captured.
  document.addEventListener(
    "toggle",
    (event) => {
      const row = event.target;
      if (row instanceof HTMLDetailsElement && row.open) loadDetails(row);
    },
    true,
  );
  for (const row of document.querySelectorAll("#providers > details[open]")) loadDetails(row);

  async function refresh() {
    try {
      const current = document.getElementById("status");
      const headers = { Accept: "text/html" };
      if (current?.dataset.etag) headers["If-None-Match"] = `"${current.dataset.etag}"`;
      const response = await fetch(url, { cache: "no-store", headers });
      const when = new Date().toLocaleTimeString();
      if (response.status === 304) {
        note.textContent = `live: updated ${when}, no change`;
        return;
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const parsed = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = parsed.getElementById("status");
      if (!fresh || !current) throw new Error("no status in the update");
      const mine = (id) => current.querySelector(`details[id="${CSS.escape(id)}"]`);
      // Unchanged rows: keep ours, details and all (moved, so nothing is re-fetched).
      for (const kept of fresh.querySelectorAll("#providers > details[data-kept]")) {
        const row = mine(kept.id);
        if (!row) throw new Error(`no row ${kept.id} to keep`);
        kept.replaceWith(row);
      }
      // Changed rows: open again what the reader opened, and fetch its details anew.
      const reopen = [];
      for (const row of fresh.querySelectorAll("#providers > details:has(> .details-link)")) {
        if (mine(row.id)?.open) {
          row.open = true;
          reopen.push(row);
        }
      }
      const focused = current.contains(document.activeElement)
        ? document.activeElement.closest("details[id]")
        : null;
      current.replaceWith(fresh);
      for (const row of reopen) loadDetails(row);
      document.dispatchEvent(new Event("harness:updated"));
      if (focused) document.getElementById(focused.id)?.querySelector("summary")?.focus();
      note.textContent = `live: updated ${when}`;
    } catch (error) {
      // Ask for every row next time: what went wrong may be the rows this page has.
      delete document.getElementById("status")?.dataset.etag;
      note.textContent = `live: update failed (${error.message}), retrying`;
    }
  }
  setInterval(refresh, every);
})();

// Live submission status and results without reloading, and time-on-task heartbeats.
(function () {
  const live = document.getElementById("live");
  if (!live) return;
  const exercise = live.dataset.exercise;
  const csrf = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || "";
  const statusEl = document.getElementById("status");
  const resultsEl = document.getElementById("results");

  function esc(s) { const d = document.createElement("div"); d.textContent = String(s ?? ""); return d.innerHTML; }

  function render(sub) {
    const r = sub.result || {};
    const where = sub.status === "queued" && sub.queue_position !== null ? ` (${sub.queue_position} ahead)` : "";
    statusEl.innerHTML = `Submission #${sub.id}: <strong class="${esc(sub.status)}">${esc(sub.status)}</strong>${where}` +
      (sub.status === "graded" || sub.status === "error" ? ` · score <strong id="score">${sub.score ?? 0}/${sub.max_score}</strong>` : "");
    if (sub.status !== "graded" && sub.status !== "error") { resultsEl.innerHTML = ""; return; }
    let html = r.output ? `<p>${esc(r.output)}</p>` : "";
    html += '<table class="results"><thead><tr><th>Test</th><th>Result</th><th>Points</th></tr></thead><tbody>';
    for (const t of r.tests || []) {
      html += `<tr data-test="${esc(t.name)}"><td>${esc(t.name)}${t.visibility === "hidden" ? ' <span class="muted">(hidden)</span>' : ""}</td>` +
        `<td class="${esc(t.status)}">${esc(t.status)}</td><td>${t.score}/${t.max_score}</td></tr>`;
      if (t.status !== "passed" && t.output) html += `<tr><td colspan="3"><pre>${esc(t.output)}</pre></td></tr>`;
    }
    html += "</tbody></table>";
    for (const c of (r.cells || []).filter(c => c.status !== "ok" && c.status !== "not_run")) {
      html += `<p>Cell ${c.index}: ${esc(c.status)} ${esc(c.ename)}: ${esc(c.evalue)}</p>`;
    }
    resultsEl.innerHTML = html;
  }

  async function poll(id) {
    const response = await fetch(`/api/v1/submissions/${id}`, { headers: { Accept: "application/json" } });
    if (!response.ok) { statusEl.textContent = `Could not load submission #${id}.`; return; }
    const sub = await response.json();
    render(sub);
    if (sub.status === "queued" || sub.status === "running") setTimeout(() => poll(id), 500);
  }
  if (live.dataset.submission) poll(live.dataset.submission);

  // Heartbeats while the page is visible and used: at most one a minute, only after activity.
  let active = false;
  for (const ev of ["keydown", "mousemove", "scroll", "click"]) document.addEventListener(ev, () => { active = true; }, { passive: true });
  function beat() {
    if (!active || document.visibilityState !== "visible") return;
    active = false;
    fetch("/api/v1/activity", { method: "POST", headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ exercise, source: "web" }) });
  }
  setInterval(beat, 60000);
  window.addEventListener("beforeunload", beat);
})();

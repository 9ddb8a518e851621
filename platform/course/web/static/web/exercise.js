// Live submission status and results without reloading, and time-on-task heartbeats.
(function () {
  const live = document.getElementById("live");
  if (!live) return;
  const exercise = live.dataset.exercise;
  const csrf = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || "";
  const statusEl = document.getElementById("status");
  const resultsEl = document.getElementById("results");
  const FINAL = ["graded", "error"];

  function esc(s) { const d = document.createElement("div"); d.textContent = String(s ?? ""); return d.innerHTML; }

  function render(sub) {
    const r = sub.result || {};
    const stage = sub.stage || sub.status;
    const where = stage === "queued" && sub.queue_position !== null ? ` (${sub.queue_position} ahead)` :
      stage === "running" ? " (your notebook is running)" : stage === "judging" ? " (the tests are running)" : "";
    statusEl.innerHTML = `Submission #${sub.id}: <strong id="stage" class="${esc(stage)}">${esc(stage)}</strong>${where}` +
      (FINAL.includes(sub.status) ? ` · score <strong id="score">${sub.score ?? 0}/${sub.max_score}</strong>` : "");
    if (!FINAL.includes(sub.status)) { resultsEl.innerHTML = ""; return; }
    let html = r.output ? `<p>${esc(r.output)}</p>` : "";
    html += '<table class="results"><thead><tr><th>Test</th><th>Result</th><th>Points</th></tr></thead><tbody>';
    for (const t of r.tests || []) {
      html += `<tr data-test="${esc(t.name)}"><td>${esc(t.name)}${t.visibility === "hidden" ? ' <span class="muted">(hidden)</span>' : ""}</td>` +
        `<td class="${esc(t.status)}">${esc(t.status)}</td><td>${t.score}/${t.max_score}</td></tr>`;
      if (t.status !== "passed" && t.output) html += `<tr><td colspan="3"><pre>${esc(t.output)}</pre></td></tr>`;
    }
    html += "</tbody></table>";
    for (const c of (r.cells || []).filter(c => c.status !== "ok" && c.status !== "not_run")) {
      html += `<div class="cell-error" data-cell="${c.index}"><p>Cell ${c.index}: ${esc(c.status)} ${esc(c.ename)}: ${esc(c.evalue)}</p>` +
        (c.traceback ? `<pre class="traceback">${esc(c.traceback)}</pre>` : "") + "</div>";
    }
    const changes = r.notebook_changes || [];
    if (changes.length) {
      html += '<div class="notebook-changes"><p>We adjusted your notebook before running it:</p><ul>' +
        changes.map(c => `<li>${esc(c)}</li>`).join("") + "</ul></div>";
    }
    resultsEl.innerHTML = html;
  }

  function renderAttempt(sub) {
    const row = document.querySelector(`tr[data-attempt="${sub.id}"]`);
    if (!row) return;
    const verdict = sub.verdict && sub.verdict !== "graded" ? ` (${sub.verdict})` : "";
    row.querySelector(".attempt-status").textContent = (sub.stage || sub.status) + verdict;
    row.querySelector(".attempt-score").textContent = sub.score === null ? "" : `${sub.score}/${sub.max_score}`;
  }

  // Once a grading finishes here, the summary above (module state, best score, attempts) is stale.
  async function refreshSummary() {
    const response = await fetch("/api/v1/modules", { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const module = (await response.json()).find(m => m.slug === live.dataset.module);
    const mine = module && module.exercises.find(e => e.slug === exercise);
    if (!mine) return;
    document.getElementById("module-state").textContent = module.state.replace("_", " ");
    document.getElementById("best").textContent = `${mine.best_score}/${mine.max_score}`;
    document.getElementById("attempts").textContent = mine.attempts;
  }

  async function poll(id, seenUnfinished) {
    const response = await fetch(`/api/v1/submissions/${id}`, { headers: { Accept: "application/json" } });
    if (!response.ok) { statusEl.textContent = `Could not load submission #${id}.`; return; }
    const sub = await response.json();
    render(sub);
    renderAttempt(sub);
    if (!FINAL.includes(sub.status)) setTimeout(() => poll(id, true), 500);
    else if (seenUnfinished) refreshSummary();
  }
  if (live.dataset.submission) poll(live.dataset.submission, false);

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

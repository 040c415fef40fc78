// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Put the keyboard focus on the first field with an error, so it is announced and fixable.
  const invalid = document.querySelector("[aria-invalid=true]");
  if (invalid) invalid.focus();
});

// The import page: follow the job's progress until it finishes, then show its report.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("import-progress");
  if (!box || box.dataset.finished === "true") return;
  const bar = document.getElementById("import-bar");
  const rows = document.getElementById("import-rows");
  const poll = async () => {
    try {
      const answer = await fetch(box.dataset.progressUrl, { credentials: "same-origin" });
      if (answer.ok) {
        const p = await answer.json();
        bar.max = Math.max(p.rowsTotal, 1);
        bar.value = p.rowsTotal ? p.rowsDone : (p.finished ? 1 : 0);
        rows.textContent = `${p.rowsDone} / ${p.rowsTotal} (${p.rowsFailed} ✗)`;
        if (p.finished) { window.location.reload(); return; }
      }
    } catch (e) { /* the next poll tries again */ }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 500);
});

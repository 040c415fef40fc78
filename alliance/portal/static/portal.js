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

// The submit form: show the value as it will be stored, as it is typed.
document.addEventListener("DOMContentLoaded", () => {
  const value = document.getElementById("value");
  const type = document.getElementById("type");
  const out = document.getElementById("value-preview");
  if (!value || !type || !out) return;
  const box = document.getElementById("value-preview-box");
  let timer = null;
  const update = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const query = new URLSearchParams({ type: type.value, value: value.value });
      try {
        const answer = await fetch(`/portal/indicators/preview?${query}`, { credentials: "same-origin" });
        if (!answer.ok) return;
        const p = await answer.json();
        box.hidden = !(p.value || p.error);
        out.textContent = p.value || p.error || "";
        out.classList.toggle("field-error", Boolean(p.error));
      } catch (e) { /* the preview is a help, never in the way */ }
    }, 250);
  };
  value.addEventListener("input", update);
  type.addEventListener("change", update);
});

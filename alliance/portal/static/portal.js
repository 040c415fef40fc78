// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Put the keyboard focus on the first field with an error, so it is announced and fixable.
  const invalid = document.querySelector("[aria-invalid=true]");
  if (invalid) invalid.focus();
});

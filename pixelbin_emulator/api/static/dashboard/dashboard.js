// pixelbin-emulator dashboard: small progressive enhancements over server-rendered pages.
// Plain JavaScript, no build step, nothing loaded from elsewhere.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Selects that navigate on change (org switcher, preset preview image).
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => { if (select.value) select.form.submit(); });
  }
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
  setUpDropzone();
  setUpPreview();
  setUpJournal();
});

// Drag and drop: the dropped files go to the same form post as the file picker.
function setUpDropzone() {
  const zone = document.querySelector("[data-dropzone]");
  if (!zone) return;
  const form = zone.querySelector("form");
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => { event.preventDefault(); zone.classList.add("over"); });
  }
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", async (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const body = new FormData(form);
    body.delete("file");
    for (const file of event.dataTransfer.files) body.append("file", file, file.name);
    const response = await fetch(zone.dataset.action, { method: "POST", body });
    if (response.ok) {
      window.location.assign(response.url);
    } else {
      document.open();
      document.write(await response.text());
      document.close();
    }
  });
}

// Presets: the preview follows the transformation typed (or a preset's "try").
function setUpPreview() {
  const box = document.querySelector("[data-preview]");
  if (!box) return;
  const input = box.querySelector("[data-pattern]");
  const img = box.querySelector("[data-preview-img]");
  const label = box.querySelector("[data-preview-url]");
  const status = box.querySelector("[data-preview-status]");
  let timer = null;
  const show = () => {
    const pattern = input.value.trim() || "original";
    const url = box.dataset.base + pattern + "/" + box.dataset.file;
    label.textContent = url;
    status.textContent = "loading…";
    img.src = url;
  };
  img.addEventListener("load", () => { status.textContent = img.naturalWidth + " × " + img.naturalHeight; });
  img.addEventListener("error", () => { status.textContent = "the CDN refused this transformation"; });
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(show, 250); });
  for (const button of document.querySelectorAll("[data-use-pattern]")) {
    button.addEventListener("click", () => { input.value = button.dataset.usePattern; show(); });
  }
  show();
}

// The journal: newest first, polled every second; a click on a row shows its excerpts.
function setUpJournal() {
  const table = document.querySelector("table[data-journal]");
  if (!table) return;
  const body = table.tBodies[0];
  const state = document.querySelector("[data-live-state]");
  let since = Number(table.dataset.since) || 0;
  body.addEventListener("click", (event) => {
    const row = event.target.closest("tr.entry");
    if (row) row.nextElementSibling.hidden = !row.nextElementSibling.hidden;
  });
  const cell = (text, className) => {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  };
  const add = (e) => {
    const row = document.createElement("tr");
    row.className = "entry fresh s" + Math.floor(e.status / 100);
    row.dataset.seq = e.seq;
    row.tabIndex = 0;
    const time = cell(e.time.slice(11, 23), "time");
    time.title = e.time;
    row.append(cell(e.seq), time, cell(e.method),
      cell(e.path + (e.query ? "?" + e.query : ""), "path"), cell(e.status, "status"),
      cell(e.operation || "—"), cell(e.durationMs), cell(e.faultId || ""));
    const more = document.createElement("tr");
    more.className = "excerpt";
    more.hidden = true;
    const td = document.createElement("td");
    td.colSpan = 8;
    for (const [title, text] of [["request", e.requestBody], ["response", e.responseBody]]) {
      const b = document.createElement("b");
      b.textContent = title;
      const pre = document.createElement("pre");
      pre.textContent = text || "—";
      td.append(b, pre);
    }
    more.append(td);
    body.prepend(row, more);
  };
  const poll = async () => {
    try {
      const url = table.dataset.source + (table.dataset.source.includes("?") ? "&" : "?") + "since=" + since;
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(String(response.status));
      const { items } = await response.json();
      for (const e of items) { add(e); since = Math.max(since, e.seq); }
      state.classList.remove("off");
      state.textContent = "live";
    } catch (error) {
      state.classList.add("off");
      state.textContent = "offline";
    }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 1000);
}

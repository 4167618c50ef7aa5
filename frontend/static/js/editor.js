// The file editor: "Write" and "Preview" tabs for markdown. The preview is rendered and
// sanitised by the server (the same renderer as the repository page) and typeset here. Without
// this script the Preview button submits the form and the server answers with the preview.

import { renderMarkdown } from "./render.js";
import { csrfToken } from "./site.js";

const form = document.getElementById("editor-form");
const tabs = form?.querySelector("[data-editor-tabs]");

if (form && tabs) {
  const writeTab = document.getElementById("tab-write");
  const previewTab = document.getElementById("tab-preview");
  const writePanel = document.getElementById("panel-write");
  const previewPanel = document.getElementById("panel-preview");
  const previewButton = form.querySelector("[data-preview-button]");

  const select = (tab) => {
    const preview = tab === previewTab;
    writeTab.setAttribute("aria-selected", String(!preview));
    previewTab.setAttribute("aria-selected", String(preview));
    writeTab.tabIndex = preview ? -1 : 0;
    previewTab.tabIndex = preview ? 0 : -1;
    writePanel.hidden = preview;
    previewPanel.hidden = !preview;
  };

  const showPreview = async () => {
    select(previewTab);
    previewPanel.textContent = "Rendering the preview…";
    const data = new FormData(form);
    data.set("action", "preview");
    try {
      const response = await fetch(window.location.href, {
        method: "POST",
        body: data,
        headers: { "X-Preview": "fragment", "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(`The preview failed (${response.status}).`);
      // Server-rendered and sanitised; the page's CSP would refuse inline scripts anyway.
      previewPanel.innerHTML = await response.text();
      await renderMarkdown(previewPanel);
    } catch (error) {
      previewPanel.textContent = error.message;
    }
  };

  tabs.hidden = false;
  if (previewButton) previewButton.hidden = true;
  select(previewPanel.hidden ? writeTab : previewTab);
  writeTab.addEventListener("click", () => select(writeTab));
  previewTab.addEventListener("click", showPreview);
  tabs.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    const next = document.activeElement === writeTab ? previewTab : writeTab;
    next.focus();
    if (next === previewTab) showPreview();
    else select(writeTab);
  });
}

// Behaviour every page shares: copy buttons, like buttons that keep the page, filter forms that
// apply on change, a confirmation before irreversible forms, the header's search suggestions and
// its menu on narrow screens, and one polite live region for announcements. Each works without
// this file too (plain forms and links); the script only saves round trips.

import { setupSearchSuggestions } from "./search.js";

export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

/** The path the hub is served under ("" at the root): prefix every path the scripts build. */
export function pathPrefix() {
  return document.querySelector('meta[name="path-prefix"]')?.content ?? "";
}

let liveRegion = null;

/** Say ``message`` to screen readers (and nothing on screen). */
export function announce(message) {
  if (!liveRegion) {
    liveRegion = document.createElement("div");
    liveRegion.className = "visually-hidden";
    liveRegion.setAttribute("role", "status");
    liveRegion.setAttribute("aria-live", "polite");
    document.body.append(liveRegion);
  }
  liveRegion.textContent = message;
}

function flash(button, text) {
  const original = button.textContent;
  button.textContent = text;
  announce(text);
  setTimeout(() => {
    button.textContent = original;
  }, 1500);
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain-HTTP hubs have no clipboard API: copy through a selected, off-screen text area.
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "visually-hidden";
  document.body.append(area);
  area.select();
  const copied = document.execCommand("copy");
  area.remove();
  if (!copied) throw new Error("copy refused");
}

function setupCopyButtons() {
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy], [data-copy-from]");
    if (!button) return;
    const source = button.dataset.copyFrom ? document.getElementById(button.dataset.copyFrom) : null;
    const text = button.dataset.copy ?? source?.textContent ?? "";
    try {
      await copyText(text);
      flash(button, "Copied");
    } catch {
      flash(button, "Copy failed");
    }
  });
}

function setupLikeForms() {
  for (const form of document.querySelectorAll("form.like-form")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        const response = await fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
          credentials: "same-origin",
        });
        if (response.status === 401) {
          window.location.assign(`${pathPrefix()}/login?next=${encodeURIComponent(window.location.pathname)}`);
          return;
        }
        if (!response.ok) throw new Error(`like failed: ${response.status}`);
        const { liked, likes } = await response.json();
        form.querySelector('input[name="action"]').value = liked ? "unlike" : "like";
        button.setAttribute("aria-pressed", String(liked));
        form.querySelector(".like-label").textContent = liked ? "Liked" : "Like";
        form.querySelector(".like-count").textContent = String(likes);
        announce(liked ? `Liked; ${likes} likes` : `Like removed; ${likes} likes`);
      } catch {
        form.submit();
      } finally {
        button.disabled = false;
      }
    });
  }
}

function setupAutosubmit() {
  for (const form of document.querySelectorAll("form[data-autosubmit]")) {
    form.addEventListener("change", (event) => {
      if (event.target.matches("select")) form.requestSubmit();
    });
  }
}

/** Forms marked ``data-confirm`` (hiding a comment) ask before they submit. */
function setupConfirmations() {
  document.addEventListener("submit", (event) => {
    const message = event.target.closest?.("form[data-confirm]")?.dataset.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  });
}

/** On narrow screens the header's links fold behind a Menu button (CSS shows the button and
 * hides the links only once this script has marked the header, so without it they stay visible). */
function setupNavMenu() {
  const nav = document.querySelector("nav.nav");
  const button = nav?.querySelector(".nav-toggle");
  const links = document.getElementById("nav-links");
  if (!button || !links) return;
  nav.classList.add("nav-collapsible");
  button.hidden = false;
  const set = (open) => {
    button.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("nav-open", open);
  };
  button.addEventListener("click", () => set(button.getAttribute("aria-expanded") !== "true"));
  nav.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
      set(false);
      button.focus();
    }
  });
}

setupCopyButtons();
setupNavMenu();
setupSearchSuggestions();
setupLikeForms();
setupAutosubmit();
setupConfirmations();

// Suggestions under the header's search box, as a combobox (WAI-ARIA 1.2 pattern): typing asks
// /search/suggest for the best matches of each kind; ArrowDown/ArrowUp move through them (the
// focus stays in the box, aria-activedescendant names the option), Enter opens the chosen one or,
// with none chosen, submits the search, and Escape closes the list. Without this script the box
// is a plain form that opens /search.

import { pathPrefix } from "./site.js";

const DELAY_MS = 150;

export function setupSearchSuggestions() {
  const input = document.getElementById("nav-q");
  const list = document.getElementById("nav-suggestions");
  if (!input || !list) return;
  let timer = null;
  let controller = null;
  let active = -1;

  const options = () => [...list.querySelectorAll('[role="option"]')];

  function close() {
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    const all = options();
    if (!all.length) return;
    active = (index + all.length) % all.length;
    for (const [i, option] of all.entries()) option.setAttribute("aria-selected", String(i === active));
    input.setAttribute("aria-activedescendant", all[active].id);
    all[active].scrollIntoView({ block: "nearest" });
  }

  function render(groups) {
    list.replaceChildren();
    active = -1;
    input.removeAttribute("aria-activedescendant");
    let n = 0;
    for (const group of groups) {
      const heading = document.createElement("li");
      heading.className = "suggestion-group";
      heading.setAttribute("role", "presentation");
      heading.textContent = `${group.label} (${group.total}${group.capped ? "+" : ""})`;
      list.append(heading);
      for (const item of group.items) {
        const option = document.createElement("li");
        option.id = `nav-suggestion-${n++}`;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.dataset.url = item.url;
        const label = document.createElement("span");
        label.textContent = item.label;
        option.append(label);
        if (item.detail) {
          const detail = document.createElement("span");
          detail.className = "muted";
          detail.textContent = item.detail;
          option.append(" ", detail);
        }
        option.addEventListener("mousedown", (event) => event.preventDefault()); // keep the focus
        option.addEventListener("click", () => window.location.assign(item.url));
        list.append(option);
      }
    }
    const all = document.createElement("li");
    all.id = `nav-suggestion-${n}`;
    all.className = "suggestion-all";
    all.setAttribute("role", "option");
    all.setAttribute("aria-selected", "false");
    all.dataset.url = `${pathPrefix()}/search?q=${encodeURIComponent(input.value.trim())}`;
    all.textContent = groups.length ? `All results for “${input.value.trim()}”` : `No matches yet: search for “${input.value.trim()}”`;
    all.addEventListener("mousedown", (event) => event.preventDefault());
    all.addEventListener("click", () => window.location.assign(all.dataset.url));
    list.append(all);
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  async function suggest() {
    const query = input.value.trim();
    controller?.abort();
    if (!query) {
      close();
      return;
    }
    controller = new AbortController();
    try {
      const response = await fetch(`${pathPrefix()}/search/suggest?q=${encodeURIComponent(query)}`, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: controller.signal,
      });
      if (!response.ok) return;
      const body = await response.json();
      if (body.query === input.value.trim().split(/\s+/).join(" ") && document.activeElement === input) {
        render(body.groups);
      }
    } catch (error) {
      if (error.name !== "AbortError") close();
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(suggest, DELAY_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (list.hidden) return;
      event.preventDefault();
      highlight(active + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter" && !list.hidden && active >= 0) {
      event.preventDefault();
      window.location.assign(options()[active].dataset.url);
    } else if (event.key === "Escape" && !list.hidden) {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener("blur", close);
}

// Typeset what the server left for the browser in rendered markdown: math (KaTeX) and diagrams
// (mermaid). The server emits their source, escaped and sanitised, in .math-inline, .math-display
// and pre.mermaid; the libraries are self-hosted under /static/vendor/ and loaded only when a
// page has something for them.

const VENDOR = new URL("../vendor/", import.meta.url);
const loaded = new Map();

function loadScript(path) {
  if (!loaded.has(path)) {
    loaded.set(
      path,
      new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = new URL(path, VENDOR).href;
        script.onload = resolve;
        script.onerror = () => reject(new Error(`could not load ${path}`));
        document.head.append(script);
      }),
    );
  }
  return loaded.get(path);
}

async function renderMath(root) {
  const elements = [...root.querySelectorAll(".math-inline, .math-display")].filter((el) => !el.dataset.typeset);
  if (elements.length === 0) return;
  await loadScript("katex/katex.min.js");
  for (const element of elements) {
    const source = element.textContent;
    // trust: false keeps \href, \url, \includegraphics and \html* commands inert.
    window.katex.render(source, element, {
      displayMode: element.classList.contains("math-display"),
      throwOnError: false,
      trust: false,
      strict: "ignore",
      maxSize: 50,
      maxExpand: 1000,
    });
    element.dataset.typeset = "true";
    element.setAttribute("title", source);
  }
}

async function renderDiagrams(root) {
  const elements = [...root.querySelectorAll("pre.mermaid")].filter((el) => !el.dataset.processed);
  if (elements.length === 0) return;
  await loadScript("mermaid/mermaid.min.js");
  const dark = window.matchMedia("(prefers-color-scheme: dark)").matches;
  // "strict": labels are sanitised and click handlers disabled, whatever the diagram says.
  window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: dark ? "dark" : "default" });
  await window.mermaid.run({ nodes: elements, suppressErrors: true });
}

/** Typeset math and draw diagrams under ``root``; safe to call again on new content. */
export async function renderMarkdown(root = document) {
  const results = await Promise.allSettled([renderMath(root), renderDiagrams(root)]);
  for (const result of results) {
    if (result.status === "rejected") console.error(result.reason);
  }
  root.querySelectorAll?.("[data-markdown]").forEach((el) => el.setAttribute("data-rendered", "true"));
  if (root.matches?.("[data-markdown]")) root.setAttribute("data-rendered", "true");
}

if (document.querySelector("[data-markdown]")) renderMarkdown(document);

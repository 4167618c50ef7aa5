// Copy the distribution files of the browser libraries declared in package.json into
// frontend/static/vendor/, where Django's static files finder serves them from /static/vendor/.
// Run through `npm run build` after `npm ci` (the Makefile's install target does both).
// Only what the pages load is copied: KaTeX's script, stylesheet and fonts, mermaid's browser
// bundle, uPlot's ES module and stylesheet (run charts), and each library's licence.

import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const modules = join(root, "node_modules");
const target = join(root, "frontend", "static", "vendor");

const copies = {
  katex: ["dist/katex.min.js", "dist/katex.min.css", "dist/fonts", "LICENSE"],
  mermaid: ["dist/mermaid.min.js", "LICENSE"],
  uplot: ["dist/uPlot.esm.js", "dist/uPlot.min.css", "LICENSE"],
};

rmSync(target, { recursive: true, force: true });
const versions = {};
for (const [name, files] of Object.entries(copies)) {
  const packageDir = join(modules, name);
  if (!existsSync(packageDir)) {
    console.error(`vendor: ${name} is not installed; run \`npm ci\` first.`);
    process.exit(1);
  }
  versions[name] = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")).version;
  for (const file of files) {
    const source = join(packageDir, file);
    const destination = join(target, name, file.replace(/^dist\//, ""));
    mkdirSync(dirname(destination), { recursive: true });
    cpSync(source, destination, { recursive: true });
  }
}
writeFileSync(join(target, "versions.json"), JSON.stringify(versions, null, 2) + "\n");
console.log(`vendor: ${Object.entries(versions).map(([n, v]) => `${n} ${v}`).join(", ")} -> ${target}`);

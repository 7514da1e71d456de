// Builds content_engine/web/ui/static/editor.js (one minified file, committed) from src/ and
// the locked packages, with the licences of every package it bundles beside it. The bundle's
// first line records a digest of what it was built from: tests/web/ui/test_editor_bundle.py
// recomputes it without npm, so a change to the sources or the lock without `make editor` fails.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const STATIC = join(here, "..", "static");
const OUT = join(STATIC, "editor.js");
const LICENSES = join(STATIC, "editor.licenses.txt");

// The digest: for each file, sorted by path, "path\n" and its SHA-256 in hex and "\n".
export function sourcesDigest() {
  const files = ["build.mjs", "package-lock.json", "package.json",
    ...readdirSync(join(here, "src")).filter((f) => f.endsWith(".js")).map((f) => `src/${f}`)].sort();
  const digest = createHash("sha256");
  for (const file of files) {
    const content = createHash("sha256").update(readFileSync(join(here, file))).digest("hex");
    digest.update(`${file}\n${content}\n`);
  }
  return digest.digest("hex");
}

const result = await build({
  absWorkingDir: here,
  entryPoints: ["src/main.js"],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  legalComments: "none",
  metafile: true,
  write: false,
  banner: { js: `/*! content-engine body editor (CodeMirror 6); sources-sha256: ${sourcesDigest()}; licences: editor.licenses.txt */` },
});
writeFileSync(OUT, result.outputFiles[0].contents);

// Every package the bundle holds code of, with its licence text.
const packages = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const found = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (found) packages.add(found[1]);
}
const parts = ["Packages bundled in editor.js, each with its licence.\n"];
for (const name of [...packages].sort()) {
  const folder = join(here, "node_modules", name);
  const meta = JSON.parse(readFileSync(join(folder, "package.json"), "utf8"));
  const file = readdirSync(folder).find((f) => /^licen[cs]e/i.test(f));
  if (!file) throw new Error(`${name} has no licence file`);
  parts.push(`\n==== ${name} ${meta.version} (${meta.license}) ====\n\n${readFileSync(join(folder, file), "utf8").trim()}\n`);
}
writeFileSync(LICENSES, parts.join(""));
console.log(`wrote ${OUT} (${result.outputFiles[0].contents.length} bytes) and ${LICENSES}: ${packages.size} packages`);

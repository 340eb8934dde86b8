// Bundle every widget front-end into ../superres_widgets/static/<name>.js.
// Each entry is a self-contained ES module (anywidget loads it by path);
// all dependencies are bundled, nothing is fetched from a CDN at run time.
import * as esbuild from "esbuild";
import { readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const widgetDir = join(here, "src", "widgets");
const entryPoints = readdirSync(widgetDir)
  .filter((f) => f.endsWith(".js"))
  .map((f) => join(widgetDir, f));

const options = {
  entryPoints,
  outdir: join(here, "..", "superres_widgets", "static"),
  bundle: true,
  format: "esm",
  target: ["es2020"],
  minify: process.env.NODE_ENV === "production",
  sourcemap: false,
  logLevel: "info",
};

if (process.argv.includes("--watch")) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  await esbuild.build(options);
}

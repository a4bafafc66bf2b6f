// Renders Pixelbin `t.*` pipelines with the real sharp (0.35.5, installed in this folder), one
// sharp call per step in URL order: the reference the emulator's engine is measured against.
//
// Usage: node sharp_reference.js [job.json]   (reads the job from stdin without an argument)
// Job: {"cases": [{
//   "input": "path/to/original.jpeg",
//   "steps": [{"op": "resize", "params": {"w": 100, "f": "contain"}}, ...],
//   "output": "path/to/out.jpeg",   // where the rendered file is written
//   "format": "webp",                // optional: forces the output format (what f_auto chose)
//   "dpr": 2                         // optional: the ?dpr= query, the default of each step's dpr
// }]}
// Parameters use Pixelbin's names and defaults (pixelbin_emulator/data/modules.json). A merge
// step's "i" is a path to the overlay file and its "tr" a list of steps applied to it first.
// Prints one JSON line: {"results": [{width, height, format, channels, density, output} | {error}]}
// in the cases' order; a case that sharp refuses carries "error" instead.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const sharp = require("sharp");

const MODULES = JSON.parse(
  fs.readFileSync(
    path.join(__dirname, "..", "..", "pixelbin_emulator", "data", "modules.json"),
    "utf8",
  ),
);
const DEFAULTS = Object.fromEntries(
  MODULES.plugins.t.operations.map((op) => [
    op.method,
    Object.fromEntries(
      op.params.filter((p) => p.default !== undefined).map((p) => [p.identifier, p.default]),
    ),
  ]),
);
// Steps that only choose how the result is encoded.
const OUTPUT_STEPS = new Set(["toFormat", "compress", "density"]);
const EXTEND_WITH = {
  constant: "background",
  replicate: "copy",
  reflect: "mirror",
  wrap: "repeat",
};
const LOSSY = new Set(["jpeg", "webp", "avif", "heif", "tiff", "jp2", "jxl"]);
// Input formats sharp reads but cannot write: what a render keeps them as.
const KEEP_AS = { svg: "png" };

const colour = (hex) => `#${hex}`;
const position = (p) => p.replace("_", " ");
const scaled = (value, dpr) => Math.round(value * dpr);

function paramsOf(step, dpr) {
  const params = { ...(DEFAULTS[step.op] || {}), ...(step.params || {}) };
  if ("dpr" in (DEFAULTS[step.op] || {}) && !(step.params && "dpr" in step.params)) {
    params.dpr = dpr;
  }
  return params;
}

// The output format and options a pipeline ends with: the original's format unless toFormat,
// quality from compress/toFormat (lossy formats only: a PNG quality would make sharp palettise).
function outputOf(steps, inputFormat, forcedFormat, dpr) {
  const out = { format: inputFormat, quality: undefined, density: undefined };
  for (const step of steps) {
    const p = paramsOf(step, dpr);
    if (step.op === "toFormat") {
      out.format = p.f;
      out.quality = p.q;
    } else if (step.op === "compress") {
      out.quality = p.q;
    } else if (step.op === "density") {
      out.density = p.d;
    }
  }
  if (forcedFormat) out.format = forcedFormat;
  return out;
}

async function overlayInput(p, base, dpr) {
  if (p.i) {
    const steps = Array.isArray(p.tr) ? p.tr : [];
    return renderPixels(fs.readFileSync(p.i), steps, dpr);
  }
  // No image: a plain background colour of w×h (the base's size where 0).
  const meta = await sharp(base).metadata();
  return sharp({
    create: {
      width: p.w || meta.width,
      height: p.h || meta.height,
      channels: 4,
      background: colour(p.bg),
    },
  })
    .png()
    .toBuffer();
}

// One `t.*` step as the sharp call of the same name on a fresh pipeline.
async function applyStep(input, step, dpr) {
  const p = paramsOf(step, dpr);
  const img = sharp(input);
  switch (step.op) {
    case "resize": {
      const options = { fit: p.f, position: position(p.p), kernel: p.k, background: colour(p.b) };
      if (p.w) options.width = scaled(p.w, p.dpr);
      if (p.h) options.height = scaled(p.h, p.dpr);
      return img.resize(options);
    }
    case "extend":
      return img.extend({
        top: scaled(p.t, p.dpr),
        left: scaled(p.l, p.dpr),
        bottom: scaled(p.b, p.dpr),
        right: scaled(p.r, p.dpr),
        background: colour(p.bc),
        extendWith: EXTEND_WITH[p.bt],
      });
    case "extract":
      return img.extract({ top: p.t, left: p.l, height: p.h, width: p.w });
    case "trim":
      return img.trim({ threshold: p.t });
    case "rotate":
      return img.rotate(p.a, { background: colour(p.b) });
    case "flip":
      return img.flip();
    case "flop":
      return img.flop();
    case "sharpen":
      return img.sharpen({ sigma: p.s });
    case "median":
      return img.median(p.s);
    case "blur":
      return img.blur(p.s * p.dpr);
    case "flatten":
      return img.flatten({ background: colour(p.b) });
    case "negate":
      return img.negate();
    case "normalise":
      return img.normalise();
    case "linear":
      return img.linear(p.a, p.b);
    case "modulate":
      return img.modulate({ brightness: p.b, saturation: p.s, hue: p.h });
    case "grey":
      return img.greyscale();
    case "tint":
      return img.tint(colour(p.c));
    case "merge": {
      const layer = await overlayInput(p, input, dpr);
      const composite = { input: layer, tile: Boolean(p.r) };
      if (p.g === "custom") {
        composite.top = p.t;
        composite.left = p.l;
      } else {
        composite.gravity = p.g;
      }
      // Underlay: the layer goes beneath the current image, which keeps its size.
      composite.blend = p.m === "underlay" ? "dest-over" : p.b;
      return img.composite([composite]);
    }
    default:
      throw new Error(`no sharp reference for step ${step.op}`);
  }
}

// Applies the pixel steps one after another, each through a lossless PNG in between.
async function renderPixels(input, steps, dpr) {
  let current = input;
  for (const step of steps) {
    if (OUTPUT_STEPS.has(step.op)) continue;
    const img = await applyStep(current, step, dpr);
    current = await img.png({ compressionLevel: 1 }).toBuffer();
  }
  return current;
}

async function renderCase(job) {
  const original = fs.readFileSync(job.input);
  const dpr = job.dpr === undefined ? 1 : job.dpr;
  const steps = job.steps || [];
  const { format: inputFormat } = await sharp(original).metadata();
  const out = outputOf(steps, KEEP_AS[inputFormat] || inputFormat, job.format, dpr);
  const pixelSteps = steps.filter((s) => !OUTPUT_STEPS.has(s.op));
  // All but the last pixel step go through lossless intermediates; the last one encodes.
  let current = original;
  for (const step of pixelSteps.slice(0, -1)) {
    current = await renderPixels(current, [step], dpr);
  }
  const last = pixelSteps[pixelSteps.length - 1];
  let img = last ? await applyStep(current, last, dpr) : sharp(current);
  const options = {};
  if (out.quality !== undefined && LOSSY.has(out.format)) options.quality = out.quality;
  img = img.toFormat(out.format, options);
  if (out.density !== undefined) img = img.withDensity(out.density);
  const data = await img.toBuffer();
  if (job.output) fs.writeFileSync(job.output, data);
  const meta = await sharp(data).metadata();
  return {
    width: meta.width,
    height: meta.height,
    format: meta.format,
    channels: meta.channels,
    density: meta.density,
    output: job.output,
  };
}

async function main() {
  const source = fs.readFileSync(process.argv[2] || 0, "utf8");
  const job = JSON.parse(source);
  const results = [];
  for (const one of job.cases) {
    try {
      results.push(await renderCase(one));
    } catch (error) {
      results.push({ error: String(error && error.message ? error.message : error) });
    }
  }
  process.stdout.write(`${JSON.stringify({ results })}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error && error.stack}\n`);
  process.exit(1);
});

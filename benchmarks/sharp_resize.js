// The sharp side of benchmarks/bench_transform.py, in-process in node with sharp 0.35.5 from
// tests/js (`npm ci --prefix tests/js`).
//
//   node sharp_resize.js throughput FILE CONCURRENCY SECONDS FIRST_WIDTH
//     keeps CONCURRENCY resizes in flight for SECONDS: each decodes FILE, resizes it to a width
//     no other request used (FIRST_WIDTH, FIRST_WIDTH + 1, ...) and encodes a JPEG with sharp's
//     defaults, as the emulator does for `t.resize(w:N)`. Prints {"requests", "seconds", "rps",
//     "cpu_ms"} (the process's CPU time per resize).
//   node sharp_resize.js memory FILE WIDTH
//     one resize to WIDTH; prints the growth of the process's peak RSS ({"peak_growth_bytes"}).
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const sharp = require(path.join(__dirname, "..", "tests", "js", "node_modules", "sharp"));

function status() {
  const text = fs.readFileSync("/proc/self/status", "utf8");
  const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(text)[1]) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

async function throughput(file, concurrency, seconds, firstWidth) {
  const input = fs.readFileSync(file);
  let next = firstWidth;
  let done = 0;
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const deadline = Date.now() + seconds * 1000;
  async function worker() {
    while (Date.now() < deadline) {
      const width = next++;
      await sharp(input).resize({ width }).jpeg().toBuffer();
      done++;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000 / done;
  return { requests: done, seconds: elapsed, rps: done / elapsed, cpu_ms: cpuMs };
}

async function memory(file, width) {
  const input = fs.readFileSync(file);
  global.gc && global.gc();
  fs.writeFileSync("/proc/self/clear_refs", "5");
  const before = status();
  await sharp(input).resize({ width }).jpeg().toBuffer();
  return { peak_growth_bytes: status().hwm - before.rss };
}

(async () => {
  const [mode, file, ...rest] = process.argv.slice(2);
  const result =
    mode === "throughput"
      ? await throughput(file, Number(rest[0]), Number(rest[1]), Number(rest[2]))
      : await memory(file, Number(rest[0]));
  process.stdout.write(`${JSON.stringify(result)}\n`);
})().catch((error) => {
  process.stderr.write(`${error && error.stack}\n`);
  process.exit(1);
});

// What the SDK smoke scripts share: a client for the org in PIXELBIN_URL / PIXELBIN_SECRET, a 1x1
// PNG, and `step`, which prints "ok <name>" or "FAIL <name>: <error>" and exits 1 on the first
// failure (the pytest side reads those lines).
"use strict";
const assert = require("node:assert/strict");
const { PixelbinConfig, PixelbinClient } = require("@pixelbin/admin");

const pixelbin = new PixelbinClient(
  new PixelbinConfig({ domain: process.env.PIXELBIN_URL, apiSecret: process.env.PIXELBIN_SECRET }),
);
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);

async function step(name, body) {
  try {
    await body();
    console.log(`ok ${name}`);
  } catch (error) {
    const details = error && error.details ? JSON.stringify(error.details) : "";
    console.log(`FAIL ${name}: ${error && error.stack} ${details}`);
    process.exit(1);
  }
}

async function expectStatus(promise, status) {
  await assert.rejects(promise, (error) => {
    assert.equal(error.code, status, `expected ${status}, got ${error.code}: ${error.message}`);
    return true;
  });
}

module.exports = { pixelbin, PNG, step, expectStatus };

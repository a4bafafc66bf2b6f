// Drives `pixelbin.predictions` of the official @pixelbin/admin SDK against the emulator. Every
// step prints "ok <name>"; the first failure prints "FAIL <name>: <error>" and exits 1; the end
// prints "done". Run by tests/test_js_predictions.py with PIXELBIN_URL, PIXELBIN_SECRET (a fresh
// org whose prediction latency is 0, so `wait` answers on its first poll, and whose credit limit
// is 2), PIXELBIN_WEBHOOK (a local receiver) and PIXELBIN_IMAGE_URL (a file of the org, by its
// CDN URL).
"use strict";
const assert = require("node:assert/strict");
const { pixelbin, PNG, step, expectStatus } = require("./harness");

const predictions = pixelbin.predictions;

(async () => {
  await step("list", async () => {
    const models = await predictions.list();
    const names = models.map((model) => model.name);
    for (const name of ["erase_bg", "sr_upscale", "awsRek_detectLabels"]) {
      assert.ok(names.includes(name), name);
    }
  });
  await step("getSchema", async () => {
    const schema = await predictions.getSchema("sr_upscale");
    assert.equal(schema.name, "sr_upscale");
    assert.deepEqual(schema.input.properties.type.enum, ["2x", "4x"]);
    await expectStatus(predictions.getSchema("nope_model"), 404);
  });
  let job;
  await step("create (multipart, a Buffer and a webhook)", async () => {
    job = await predictions.create({
      name: "erase_bg",
      // form-data (under the SDK) takes strings and Buffers only: booleans go as "true"/"false".
      input: { image: PNG, industry_type: "general", shadow: "false", refine: "true" },
      webhook: process.env.PIXELBIN_WEBHOOK,
    });
    assert.match(job._id, /^erase--bg--[0-9a-f-]{36}$/);
    assert.equal(job.status, "ACCEPTED");
    assert.deepEqual(job.input.shadow, false);
    assert.equal((await fetch(job.input.image)).status, 200);
  });
  await step("get and wait", async () => {
    const details = await predictions.get(job._id);
    assert.equal(details._id, job._id);
    const done = await predictions.wait(job._id, { retryInterval: 1000, maxAttempts: 3 });
    assert.equal(done.status, "SUCCESS");
    assert.equal(done.consumedCredits, 1);
    const output = await fetch(done.output[0]);
    assert.equal(output.headers.get("content-type"), "image/png");
    const bytes = Buffer.from(await output.arrayBuffer());
    assert.equal(bytes.subarray(1, 4).toString(), "PNG");
  });
  await step("a job whose image cannot be fetched fails", async () => {
    const done = await predictions.createAndWait({
      name: "erase_bg",
      input: { image: "https://images.example.com/missing.png" },
      options: { retryInterval: 1000, maxAttempts: 3 },
    });
    assert.equal(done.status, "FAILURE");
    assert.match(done.error, /fetching is disabled/);
    assert.equal(done.output, undefined);
  });
  await step("createAndWait (a URL input)", async () => {
    const done = await predictions.createAndWait({
      name: "sr_upscale",
      input: { image: process.env.PIXELBIN_IMAGE_URL, type: "4x" },
      options: { retryInterval: 1000, maxAttempts: 3 },
    });
    assert.equal(done.status, "SUCCESS");
    assert.equal(done.input.image, process.env.PIXELBIN_IMAGE_URL);
    assert.equal((await fetch(done.output[0])).status, 200);
  });
  await step("bad input is a 400", async () => {
    await expectStatus(
      predictions.create({ name: "erase_bg", input: { image: PNG, industry_type: "space" } }),
      400,
    );
    await expectStatus(predictions.create({ name: "erase_bg", input: {} }), 400);
    await expectStatus(predictions.get("erase--bg--missing"), 404);
  });
  await step("past the credit limit (2): UsageBlockedError", async () => {
    await assert.rejects(
      predictions.create({ name: "af_remove", input: { image: PNG } }),
      (error) => {
        assert.equal(error.code, 403);
        assert.equal(error.details.errorCode, "JR-1000");
        assert.equal(error.details.exception, "UsageBlockedError");
        return true;
      },
    );
  });
  console.log("done");
})();

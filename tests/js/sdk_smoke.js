// Drives the official @pixelbin/admin SDK against the emulator. Every step prints "ok <name>";
// the first failure prints "FAIL <name>: <error>" and exits 1; the end prints "done". Run by tests/test_js_sdk.py with
// PIXELBIN_URL and PIXELBIN_SECRET set to a fresh org on a live emulator.
"use strict";
const assert = require("node:assert/strict");
const { Readable } = require("node:stream");
const { pixelbin, PNG, step, expectStatus } = require("./harness");

const assets = pixelbin.assets;
const stream = (bytes) => Readable.from([bytes]);

(async () => {
  let uploaded;
  await step("fileUpload", async () => {
    uploaded = await assets.fileUpload({
      file: stream(PNG),
      path: "js/dir",
      name: "pic",
      tags: ["a", "b"],
      metadata: { m: 1 },
      options: { originalFilename: "pic.png" },
    });
    assert.equal(uploaded.fileId, "js/dir/pic");
    assert.equal(uploaded.format, "png");
    assert.deepEqual(uploaded.tags, ["a", "b"]);
  });
  await step("fileUpload conflict is a 400", () =>
    expectStatus(
      assets.fileUpload({
        file: stream(PNG),
        path: "js/dir",
        name: "pic",
        options: { originalFilename: "pic.png" },
      }),
      400,
    ),
  );
  await step("fileUpload filenameOverride", async () => {
    const second = await assets.fileUpload({
      file: stream(PNG),
      path: "js/dir",
      name: "pic",
      filenameOverride: true,
      options: { originalFilename: "pic.png" },
    });
    assert.notEqual(second.fileId, "js/dir/pic");
    await assets.deleteFile({ fileId: second.fileId });
  });
  await step("urlUpload", async () => {
    const copy = await assets.urlUpload({ url: uploaded.url, path: "js", name: "copy" });
    assert.equal(copy.size, PNG.length);
  });
  await step("getFileById", async () => {
    const file = await assets.getFileById({ _id: uploaded._id });
    assert.equal(file.fileId, "js/dir/pic");
  });
  await step("getFileByFileId", async () => {
    const file = await assets.getFileByFileId({ fileId: "js/dir/pic" });
    assert.equal(file._id, uploaded._id);
  });
  await step("updateFile", async () => {
    const file = await assets.updateFile({
      fileId: "js/dir/pic",
      name: "renamed",
      access: "private",
      tags: ["c"],
    });
    assert.equal(file.fileId, "js/dir/renamed");
    assert.equal(file.access, "private");
  });
  let folder;
  await step("createFolder", async () => {
    folder = await assets.createFolder({ name: "made", path: "js/dir" });
    assert.equal(folder.path, "js/dir");
  });
  await step("getFolderDetails", async () => {
    const details = await assets.getFolderDetails({ path: "js/dir", name: "made" });
    assert.equal(details._id, folder._id);
  });
  await step("updateFolder", async () => {
    const updated = await assets.updateFolder({ folderId: "js/dir/made", isActive: false });
    assert.equal(updated.isActive, false);
  });
  await step("getFolderAncestors", async () => {
    const answer = await assets.getFolderAncestors({ _id: folder._id });
    assert.deepEqual(
      answer.ancestors.map((a) => a.name),
      ["js", "dir"],
    );
  });
  await step("listFiles with false booleans and tags", async () => {
    const answer = await assets.listFiles({
      path: "js/dir",
      onlyFiles: true,
      onlyFolders: false,
      tags: ["c"],
    });
    assert.deepEqual(
      answer.items.map((i) => i.name),
      ["renamed"],
    );
    assert.equal(answer.page.current, 1);
  });
  await step("listFilesPaginator walks every page once", async () => {
    for (let i = 0; i < 7; i++) {
      await assets.fileUpload({
        file: stream(PNG),
        path: "js/many",
        name: `f${i}`,
        options: { originalFilename: "f.png" },
      });
    }
    const paginator = assets.listFilesPaginator({ path: "js/many", pageSize: 3, sort: "-createdAt" });
    const seen = [];
    let pages = 0;
    while (paginator.hasNext()) {
      const { items, page } = await paginator.next();
      seen.push(...items.map((i) => i._id));
      pages += 1;
      assert.ok(pages <= 3, "paginator did not stop");
      assert.equal(page.size, items.length);
    }
    assert.equal(seen.length, 7);
    assert.equal(new Set(seen).size, 7);
  });
  await step("deleteFiles", async () => {
    const listing = await assets.listFiles({ path: "js/many", pageSize: 100 });
    const deleted = await assets.deleteFiles({ ids: listing.items.map((i) => i._id) });
    assert.ok(Array.isArray(deleted));
    assert.equal(deleted.length, 7);
  });
  await step("deleteFile", async () => {
    const file = await assets.deleteFile({ fileId: "js/dir/renamed" });
    assert.equal(file._id, uploaded._id);
  });
  await step("getFileById of a deleted file is a 404", () =>
    expectStatus(assets.getFileById({ _id: uploaded._id }), 404),
  );
  await step("deleteFolder", async () => {
    const top = await assets.getFolderDetails({ path: "", name: "js" });
    const deleted = await assets.deleteFolder({ _id: top._id });
    assert.equal(deleted.name, "js");
    const root = await assets.listFiles({});
    assert.equal(root.page.itemTotal, 0);
  });
  await step("uploader.upload in many parts", async () => {
    const bytes = Buffer.concat([PNG, Buffer.alloc(5000, 7)]);
    const result = await pixelbin.uploader.upload({
      file: bytes,
      name: "multi",
      path: "js-up",
      format: "png",
      uploadOptions: { chunkSize: 1024, concurrency: 3, maxRetries: 0 },
    });
    assert.equal(result.fileId, "js-up/multi.png");
    assert.equal(result.size, bytes.length);
    const served = Buffer.from(await (await fetch(result.url)).arrayBuffer());
    assert.ok(served.equals(bytes));
  });
  await step("uploader.upload from a stream", async () => {
    const result = await pixelbin.uploader.upload({
      file: stream(PNG),
      path: "js-up",
      uploadOptions: { chunkSize: 50, concurrency: 2 },
    });
    assert.equal(result.size, PNG.length);
    assert.equal(result.format, "png");
  });
  await step("createSignedUrl (v1) answers a presigned POST", async () => {
    const answer = await assets.createSignedUrl({ name: "v1", path: "js-up", format: "png" });
    assert.ok(answer.s3PresignedUrl.url.startsWith(process.env.PIXELBIN_URL));
    const form = new FormData();
    for (const [key, value] of Object.entries(answer.s3PresignedUrl.fields)) form.append(key, value);
    form.append("file", new Blob([PNG]), "v1.png");
    const response = await fetch(answer.s3PresignedUrl.url, { method: "POST", body: form });
    assert.equal(response.status, 204);
    const stored = await assets.getFileByFileId({ fileId: "js-up/v1" });
    assert.equal(stored.size, PNG.length);
  });
  await step("addPreset / getPreset / getPresets / updatePreset / deletePreset", async () => {
    const preset = await assets.addPreset({
      presetName: "js-preset",
      transformation: "t.resize(w:$w,h:$h)~t.flip()",
      params: { w: { type: "integer", default: 200 }, h: { type: "integer", default: 100 } },
    });
    assert.equal(preset.presetName, "js-preset");
    assert.equal((await assets.getPreset({ presetName: "js-preset" })).transformation, preset.transformation);
    const listing = await assets.getPresets({ pageNo: 1, pageSize: 10, name: "js" });
    assert.equal(listing.page.itemTotal, 1);
    assert.equal((await assets.updatePreset({ presetName: "js-preset", archived: true })).archived, true);
    await expectStatus(assets.addPreset({ presetName: "bad", transformation: "t.nope()" }), 400);
    assert.equal((await assets.deletePreset({ presetName: "js-preset" })).presetName, "js-preset");
  });
  await step("addCredentials / updateCredentials / deleteCredentials", async () => {
    const added = await assets.addCredentials({
      pluginId: "awsRek",
      credentials: { region: "ap-south-1", accessKeyId: "AKIA", secretAccessKey: "s" },
    });
    assert.equal(added.pluginId, "awsRek");
    assert.equal(added.credentials, undefined);
    await assets.updateCredentials({ pluginId: "awsRek", credentials: { region: "us-east-1" } });
    const deleted = await assets.deleteCredentials({ pluginId: "awsRek" });
    assert.equal(deleted.pluginId, "awsRek");
  });
  await step("getModules / getModule", async () => {
    const modules = await assets.getModules();
    assert.ok(modules.plugins.t && modules.plugins.erase && modules.delimiters);
    assert.equal((await assets.getModule({ identifier: "erase" })).identifier, "erase");
    await expectStatus(assets.getModule({ identifier: "no-such-plugin" }), 404);
  });
  await step("getDefaultAssetForPlayground", async () => {
    const asset = await assets.getDefaultAssetForPlayground();
    assert.equal(asset.fileId, "__playground/playground-default");
    assert.equal((await fetch(asset.url)).status, 200);
  });
  await step("organization.getAppOrgDetails", async () => {
    const details = await pixelbin.organization.getAppOrgDetails();
    assert.ok(details.app && details.org && details.org.cloudName);
  });
  await step("transformation.getTransformationContext", async () => {
    const asset = await assets.getDefaultAssetForPlayground();
    const path = new URL(asset.url).pathname.replace("/original/", "/t.resize(w:40)~t.flip()/");
    const { context } = await pixelbin.transformation.getTransformationContext({ url: path });
    assert.deepEqual(context.steps.map((s) => s.name), ["resize", "flip"]);
    assert.equal(context.steps[0].width, 40);
    assert.equal(context.metadata.format, "jpeg");
    const rendered = await fetch(asset.url.replace("/original/", "/t.resize(w:40)/"));
    assert.equal(rendered.status, 200);
    assert.equal(rendered.headers.get("content-type"), "image/jpeg");
  });
  console.log("done");
})();

// Builds CDN transformation URLs with the official JavaScript SDKs: @pixelbin/admin's
// `url.objToUrl` and @pixelbin/core's transformation builders. Prints {name: url} as JSON for
// tests/test_transform_sdk_urls.py, which fetches and checks them. Reads PIXELBIN_URL (the
// emulator's base URL), PIXELBIN_CLOUD and PIXELBIN_FILE (a stored file's path with extension).
"use strict";
const { url } = require("@pixelbin/admin");
const { default: Pixelbin, transformations } = require("@pixelbin/core");

const baseUrl = process.env.PIXELBIN_URL;
const cloudName = process.env.PIXELBIN_CLOUD;
const filePath = process.env.PIXELBIN_FILE;
const { Basic } = transformations;

const built = {
  objToUrl: url.objToUrl({
    baseUrl,
    cloudName,
    version: "v2",
    filePath,
    transformations: [
      { plugin: "t", name: "resize", values: [{ key: "w", value: "120" }] },
      { plugin: "t", name: "toFormat", values: [{ key: "f", value: "png" }] },
    ],
  }),
  objToUrlWithOptions: url.objToUrl({
    baseUrl,
    cloudName,
    version: "v2",
    filePath,
    transformations: [{ plugin: "t", name: "resize", values: [{ key: "w", value: "50" }] }],
    options: { dpr: 2.0, f_auto: true },
  }),
};

// @pixelbin/core always writes https://cdn.pixelbin.io: the emulator takes the same path.
const image = new Pixelbin({ cloudName }).image(filePath);
image.setTransformation(
  Basic.resize({ width: 80, height: 60, fit: "contain", background: "ffffff" })
    .pipe(Basic.rotate({ angle: 90 }))
    .pipe(Basic.toFormat({ format: "webp" })),
);
built.coreBuilders = image.getUrl().replace("https://cdn.pixelbin.io", baseUrl);

process.stdout.write(`${JSON.stringify(built)}\n`);

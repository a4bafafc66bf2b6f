// Slugifies each string of a JSON array read from stdin with npm slugify and prints the results
// as a JSON object: {charmap, defaults: [...], noQuote: [...]}. "noQuote" uses the default
// options except that '"' is removed too (the one deviation the emulator makes).
const slugify = require("slugify");
const fs = require("fs");

const source = fs.readFileSync(require.resolve("slugify"), "utf8");
const literal = source.match(/var charMap = JSON\.parse\(('.*?')\)\n/)[1];
const charmap = JSON.parse(new Function(`return ${literal}`)());
const strings = JSON.parse(fs.readFileSync(0, "utf8"));
const remove = /[^\w\s$*_+~.()'!\-:@]+/g;
process.stdout.write(JSON.stringify({
  charmap,
  defaults: strings.map((text) => slugify(text)),
  noQuote: strings.map((text) => slugify(text, { remove })),
}));

// What the engine runs: the compiled package, which `npm install` here builds (see package.json).
module.exports = require("../dist/components");

// What the engine runs: the package as its main loads it, compiled or from its source (entry/load.js);
// `npm install` here installs the package's dependencies (see package.json).
module.exports = require("../entry/index.js");

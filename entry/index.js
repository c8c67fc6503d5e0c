// The package's main: the component and its public types (components/index.ts).
"use strict";
module.exports = require("./load").load("components/index");

// The policy pack (policy/index.ts), as policy/package.json's main.
"use strict";
module.exports = require("./load").load("policy/index");

// The library API, `released-service/api` (cli/api.ts): the command's verbs as typed functions.
"use strict";
module.exports = require("./load").load("cli/api");

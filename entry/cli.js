#!/usr/bin/env node
// The `released-service` command (cli/main.ts).
"use strict";
require("./load").load("cli/main");

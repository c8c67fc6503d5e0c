// The docs' config table (docs/configuration.md) is the schema's: every setting documented, none documented twice or left behind.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { settingsTable, STACK_CONFIG_KEYS } from "../../components/config/schema";

const PAGE = path.join(__dirname, "..", "..", "docs", "configuration.md");
const BEGIN = "<!-- settings table: generated from components/config/schema.ts; tests/config/settingsTable.test.ts keeps it so -->";
const END = "<!-- end of settings table -->";

describe("the settings table of docs/configuration.md", () => {
    it("is the schema's table, row for row", () => {
        const text = fs.readFileSync(PAGE, "utf8");
        const start = text.indexOf(BEGIN);
        const end = text.indexOf(END);
        assert.ok(start >= 0 && end > start, "docs/configuration.md has the settings table's markers");
        const table = text.slice(start + BEGIN.length, end).trim();
        assert.equal(table, settingsTable(), "docs/configuration.md's settings table differs from the schema's; paste settingsTable() between the markers");
    });

    it("has one row per stack config key", () => {
        const keys = settingsTable()
            .split("\n")
            .slice(2)
            .map((row) => /^\| `([^`]+)` \|/.exec(row)?.[1]);
        assert.deepEqual(keys, [...STACK_CONFIG_KEYS]);
    });
});

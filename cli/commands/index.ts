// Every command of `released-service`, in the order the help lists them. A new command is one file
// in this directory and one row here.

import type { Command } from "../core/command";
import { drillCommand } from "./drill";
import { historyCommand } from "./history";
import { releaseHoldCommand } from "./releaseHold";
import { rollbackCommand } from "./rollback";
import { statusCommand } from "./status";
import { upCommand } from "./up";
import { verifyCommand } from "./verify";

export const COMMANDS: readonly Command[] = [historyCommand, statusCommand, rollbackCommand, releaseHoldCommand, upCommand, drillCommand, verifyCommand];

#!/usr/bin/env node
// The `zoho-attach` executable. Everything it does is in run-cli.ts, which tests import without starting a process.
import { exitWhenFlushed, processDeps, runCli } from './run-cli.js';

exitWhenFlushed(await runCli(process.argv.slice(2), processDeps()));

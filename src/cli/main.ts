// Runs the CLI from source (tests, `node --import tsx src/cli/main.ts`); the installed bin uses dist/.
import { main } from "./index.js";

process.exitCode = await main(process.argv.slice(2));

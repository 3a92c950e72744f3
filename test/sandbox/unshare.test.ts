import { sandboxSuite } from "./suite.js";

sandboxSuite("unshare").run();

import { sandboxSuite } from "./suite.js";

sandboxSuite("runc").run();

export { BuildImageError, isBuildImageError } from "./errors.js";

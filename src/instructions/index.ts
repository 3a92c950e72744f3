export { expandWord, expandWordWithMatches, processWord, splitWords, ShellWordError, type Env, type ExpandOptions, type LexOptions, type WordResult } from "./lex.js";

/**
 * The one usage-error class of the command line (`luatos run`, `luatos test`, `luatos logs`):
 * a mistake in the arguments. The command that catches it prints `luatos <cmd>: <message>` and a
 * `Try 'luatos ... --help'` hint, never a stack trace, and exits with code 2.
 * (runtime/host/cli/main.ts re-exports it under its old name and place.)
 */
export class UsageError extends Error {}

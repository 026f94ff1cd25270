/** The web console (`luatos run --web`): see server.ts. */
export { startWebConsole, basicStatus, isLoopbackHost } from './server';
export type { ConsoleDevice, WebConsole, WebConsoleOptions, DeviceStatus, RtmpStatusStats, MemoryUsage } from './server';
export { LogHistory, classify } from './log-history';
export type { HistoryEntry, WireLine, LineLevel } from './log-history';
export { resolveStatic, defaultStaticDir } from './static-files';

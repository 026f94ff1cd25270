/**
 * Devices, credentials and URL lists of the local video platform.
 *
 * A small config (an object, or a JSON file with the same shape) with sensible defaults:
 * without any config every device id is accepted with the demo's credentials
 * (`deviceUser "admin"`, `devicePsd "Air123456"`, `deviceAccess "8"`) and gets one URL,
 * `rtmp://<ingest host>:<ingest port>/live/<deviceId>`.
 *
 * ```json
 * {
 *   "credentials": { "deviceUser": "admin", "devicePsd": "Air123456", "deviceAccess": "8" },
 *   "allowUnknownDevices": true,
 *   "urlTemplate": "{rtmp}/live/{deviceId}",
 *   "devices": {
 *     "C8C2C68C5DEA": { "devicePsd": "secret", "platformDeviceId": "93ecc063_8d75" },
 *     "AABBCCDDEEFF": { "urlList": ["{rtmp}/cam/front", "{rtmp}/cam/back"] },
 *     "112233445566": false
 *   }
 * }
 * ```
 * Placeholders in URL templates: `{rtmp}` = `rtmp://<host>:<port>` of the local ingest,
 * `{host}`, `{port}`, `{deviceId}` (the requested id, made safe for a stream name: characters
 * outside `[A-Za-z0-9_-]` become `_`, because node-media-server accepts only those),
 * `{platformDeviceId}`. A URL without placeholders is returned as it is (e.g. a real server).
 * A device set to `false` is unknown to the platform (error `设备不存在`).
 */
import * as fs from 'node:fs';

export interface PlatformCredentials {
  deviceUser?: string;
  devicePsd?: string;
  /**
   * The demo sends `deviceAccess: "8"`; its meaning is not documented publicly (an access type).
   * Checked for equality when set; `null` accepts any value (the field must still be present).
   */
  deviceAccess?: string | null;
}

export interface PlatformDeviceConfig extends PlatformCredentials {
  /** URL templates for this device (default: the global `urlTemplate`) */
  urlList?: string[];
  /** `data.deviceId` in the answer (default: the requested id). The real platform answers with its own id. */
  platformDeviceId?: string;
  /** `data.deviceChannels` (default: 1, as in the reference log) */
  deviceChannels?: number;
}

export interface PlatformConfig {
  /** credentials every device uses unless its own entry overrides them */
  credentials?: PlatformCredentials;
  /** default true: ids not listed in `devices` are accepted with the default credentials */
  allowUnknownDevices?: boolean;
  /** default `{rtmp}/live/{deviceId}` */
  urlTemplate?: string;
  devices?: Record<string, PlatformDeviceConfig | false>;
}

export const DEFAULT_CREDENTIALS: Required<Omit<PlatformCredentials, 'deviceAccess'>> & { deviceAccess: string | null } = {
  deviceUser: 'admin',
  devicePsd: 'Air123456',
  deviceAccess: '8',
};

export const DEFAULT_URL_TEMPLATE = '{rtmp}/live/{deviceId}';

export class PlatformConfigError extends Error {}

/** Read and check a JSON config file. */
export function loadPlatformConfig(file: string): PlatformConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new PlatformConfigError(`cannot read platform config ${file}: ${(e as Error).message}`);
  }
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new PlatformConfigError(`platform config ${file} is not valid JSON: ${(e as Error).message}`);
  }
  return checkPlatformConfig(o, file);
}

function isStr(x: unknown): x is string {
  return typeof x === 'string';
}

/** Validate an object (from JSON or code); throws PlatformConfigError naming the bad field. */
export function checkPlatformConfig(o: unknown, where = 'platform config'): PlatformConfig {
  const bad = (msg: string): never => {
    throw new PlatformConfigError(`${where}: ${msg}`);
  };
  if (o === null || typeof o !== 'object' || Array.isArray(o)) bad('must be a JSON object');
  const c = o as Record<string, unknown>;
  const known = new Set(['credentials', 'allowUnknownDevices', 'urlTemplate', 'devices']);
  for (const k of Object.keys(c)) if (!known.has(k)) bad(`unknown field '${k}' (known: ${[...known].join(', ')})`);
  const checkCreds = (x: Record<string, unknown>, at: string) => {
    for (const f of ['deviceUser', 'devicePsd'] as const) if (x[f] !== undefined && !isStr(x[f])) bad(`${at}.${f} must be a string`);
    if (x.deviceAccess !== undefined && x.deviceAccess !== null && !isStr(x.deviceAccess)) bad(`${at}.deviceAccess must be a string or null`);
  };
  if (c.credentials !== undefined) {
    if (c.credentials === null || typeof c.credentials !== 'object') bad('credentials must be an object');
    checkCreds(c.credentials as Record<string, unknown>, 'credentials');
  }
  if (c.allowUnknownDevices !== undefined && typeof c.allowUnknownDevices !== 'boolean') bad('allowUnknownDevices must be true or false');
  if (c.urlTemplate !== undefined && !isStr(c.urlTemplate)) bad('urlTemplate must be a string');
  if (c.devices !== undefined) {
    if (c.devices === null || typeof c.devices !== 'object' || Array.isArray(c.devices)) bad('devices must be an object keyed by device id');
    for (const [id, d] of Object.entries(c.devices as Record<string, unknown>)) {
      if (d === false) continue;
      if (d === null || typeof d !== 'object' || Array.isArray(d)) bad(`devices.${id} must be an object or false`);
      const dd = d as Record<string, unknown>;
      const dk = new Set(['deviceUser', 'devicePsd', 'deviceAccess', 'urlList', 'platformDeviceId', 'deviceChannels']);
      for (const k of Object.keys(dd)) if (!dk.has(k)) bad(`devices.${id}: unknown field '${k}'`);
      checkCreds(dd, `devices.${id}`);
      if (dd.urlList !== undefined && !(Array.isArray(dd.urlList) && dd.urlList.every(isStr))) bad(`devices.${id}.urlList must be a list of strings`);
      if (dd.platformDeviceId !== undefined && !isStr(dd.platformDeviceId)) bad(`devices.${id}.platformDeviceId must be a string`);
      if (dd.deviceChannels !== undefined && !(Number.isInteger(dd.deviceChannels) && (dd.deviceChannels as number) >= 0)) bad(`devices.${id}.deviceChannels must be a whole number`);
    }
  }
  return c as PlatformConfig;
}

/** A device id as a node-media-server stream name. */
export function safeStreamName(id: string): string {
  const s = id.replace(/[^A-Za-z0-9_-]/g, '_');
  return s === '' ? '_' : s;
}

export interface ResolvedDevice {
  deviceId: string;
  platformDeviceId: string;
  credentials: { deviceUser: string; devicePsd: string; deviceAccess: string | null };
  urlTemplates: string[];
  deviceChannels: number;
}

/** The entry for a device id (exact key first, then case-insensitive); undefined = unknown device. */
export function resolveDevice(cfg: PlatformConfig, deviceId: string): ResolvedDevice | undefined {
  const devices = cfg.devices ?? {};
  let entry: PlatformDeviceConfig | false | undefined = Object.prototype.hasOwnProperty.call(devices, deviceId) ? devices[deviceId] : undefined;
  if (entry === undefined) {
    const k = Object.keys(devices).find((x) => x.toLowerCase() === deviceId.toLowerCase());
    if (k !== undefined) entry = devices[k];
  }
  if (entry === false) return undefined;
  if (entry === undefined && cfg.allowUnknownDevices === false) return undefined;
  const e: PlatformDeviceConfig = entry ?? {};
  const g = cfg.credentials ?? {};
  return {
    deviceId,
    platformDeviceId: e.platformDeviceId ?? deviceId,
    credentials: {
      deviceUser: e.deviceUser ?? g.deviceUser ?? DEFAULT_CREDENTIALS.deviceUser,
      devicePsd: e.devicePsd ?? g.devicePsd ?? DEFAULT_CREDENTIALS.devicePsd,
      deviceAccess: e.deviceAccess !== undefined ? e.deviceAccess : g.deviceAccess !== undefined ? g.deviceAccess : DEFAULT_CREDENTIALS.deviceAccess,
    },
    urlTemplates: e.urlList ?? [cfg.urlTemplate ?? DEFAULT_URL_TEMPLATE],
    deviceChannels: e.deviceChannels ?? 1,
  };
}

/** Fill the placeholders of a URL template. */
export function expandUrl(template: string, v: { host: string; port: number; deviceId: string; platformDeviceId: string }): string {
  return template.replace(/\{(rtmp|host|port|deviceId|platformDeviceId)\}/g, (_m, k: string) => {
    switch (k) {
      case 'rtmp':
        return `rtmp://${v.host}:${v.port}`;
      case 'host':
        return v.host;
      case 'port':
        return String(v.port);
      case 'deviceId':
        return safeStreamName(v.deviceId);
      default:
        return safeStreamName(v.platformDeviceId);
    }
  });
}

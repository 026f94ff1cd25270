/**
 * The device panel's figures for the web console: Wi-Fi, RTMP, boots, memory. Read from the
 * device model (never from inside the VM), once a second. Under `luatos run` this runs in the
 * device's worker thread (runtime/host/device-worker.ts), which posts the snapshot to the main
 * thread; DeviceHost.status() serves it with boots and uptime from the heartbeat, so the panel
 * still answers while the VM is stuck.
 */
import type { Device } from './device';
import { deviceMedia } from './device-media';
import { WifiNetwork } from './net/model';
import type { DeviceStatus } from './web/server';

export function statusProvider(device: Device): () => DeviceStatus {
  let lastFrames = 0;
  let lastAt = 0;
  let fps = 0;
  let luaMax = 0;
  return () => {
    const vm = device.vm && !device.vm.isDead ? device.vm : null;
    const net = device.net;
    let wifi: DeviceStatus['wifi'] = { state: 'unknown', ip: null };
    if (net instanceof WifiNetwork) {
      const s = net.status();
      const state = s.phase === 'up' ? 'connected' : s.phase === 'idle' ? 'disconnected' : 'connecting';
      wifi = { state, ssid: s.ssid, ip: s.ip };
    }
    let rtmp: DeviceStatus['rtmp'] = { state: null, stats: null };
    const tracked = vm ? deviceMedia(vm).lastPublisher : undefined;
    if (tracked) {
      const st = tracked.pub.getStats();
      const now = Date.now();
      if (lastAt && now > lastAt) fps = Math.max(0, ((st.videoFrames - lastFrames) * 1000) / (now - lastAt));
      lastFrames = st.videoFrames;
      lastAt = now;
      rtmp = {
        state: tracked.pub.getState(),
        url: tracked.url,
        stats: {
          kbpsAvg: st.avgKbps,
          kbpsWindow: st.windowKbps,
          fps: Math.round(fps * 10) / 10,
          dropped: st.droppedFrames,
          queueMs: st.queueMs,
          bytesSent: st.bytesSent,
          videoFrames: st.videoFrames,
        },
      };
    }
    const m = device.profile.memory;
    let lua = null;
    if (vm) {
      const used = vm.luaHeapBytes();
      if (used !== null) {
        luaMax = Math.max(luaMax, used);
        lua = { total: m.lua, used, max: luaMax };
      }
    }
    return {
      wifi,
      rtmp,
      boots: device.boots,
      uptimeMs: Math.round(device.uptime()),
      memory: { lua, sys: { total: m.sys, used: m.sysUsed, max: m.sysUsed } },
    };
  };
}

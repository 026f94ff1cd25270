/**
 * camera (luatos-api.md §12): the Air8101's USB camera + hardware H.264 encoder, played by an
 * ffmpeg child process (runtime/media/camera) behind the device media hub (luatos-api/shared/media-hub.ts).
 *
 * - `camera.config(id, key, value)` → 0 accepted / -1 unknown key or bad value. Works before
 *   `init` (the demo calls it first). One encoder per device: the id is not checked (the demo
 *   passes 0 for a USB camera). Settings apply when the encoder next starts.
 * - `camera.init(table)` → 0 on success, false on failure (with an E `camera` line saying why:
 *   missing/unsupported device, a busy USB camera or one that is not a capture device, missing
 *   ffmpeg naming every place searched, bad size). Reads `id`, `sensor_width`, `sensor_height`,
 *   `usb_port`, `async`; `zbar_scan`, `draw_lcd`, `i2c_*`, `pwm_*`, `color_bit`, `id_reg`,
 *   `id_value`, `stream`, `format`, `init_cmd` are accepted and ignored. For `camera.USB` it logs
 *   the device's `usb_driv`/`uvc_stre` lines. A real camera source (v4l2/avfoundation/dshow) is
 *   probed by a short ffmpeg run grabbing one frame (a "Device or resource busy" answer → false);
 *   testsrc and files start no process here.
 *   Blocking like the device (≈0.4 s, profile `camera.initMs`, or as long as the probe takes):
 *     * in a task: the calling task is suspended (the host function yields with a continuation)
 *       and resumed from the main loop when the camera is ready and the time has passed;
 *     * from the main chunk or a callback (not yieldable): returns at once (choice: the checks are
 *       synchronous, the rest of the opening continues in the background; a probe failure found
 *       later is logged as E `camera init failed: …` and leaves the camera uninitialised);
 *     * `async = 1`: returns a future (`.wait()` → 0, or false: at once for the synchronous
 *       checks, after the probe for a busy or absent device).
 *   A second init keeps the camera (new size applies at the next encoder start) and returns 0.
 *   The SPI form `camera.init(spi_id, ...)` is not supported (false).
 * - `camera.start(id)` / `stop(id)` / `close(id)` → booleans (false before init). start does not
 *   stream: the RTMP publisher starts the encoder when it reaches PUBLISHING (§12.2); stop ends the
 *   encoder; close also forgets the camera.
 * - `camera.capture(id, path|zbuff|nil, quality=1, x, y, w, h)` → true when started, false when the
 *   camera is not initialised or the path is not writable. The JPEG (quality 1/2/3 = 90/95/99 %,
 *   4..100 = percent; x, y, w, h crop when w and h > 0) goes to the device file system (nil path:
 *   the last path, initially "/capture.jpg") or into the zbuff (written from offset 0, `used` =
 *   JPEG size). Completion: the `"scanned"` callback with `(slot, true)` for a file, `(slot, size)`
 *   for a zbuff, `(slot, false)` on failure.
 * - `camera.on(id, "scanned", fn|nil)`: the callback gets the internal slot as id (USB ids ≥ 0x20
 *   map to 2 + id − 0x20, as the firmware does) and the event value. It is also called with false
 *   when the encoder fails while RTMP wants frames (ffmpeg crashed, busy device).
 * - `preview`, `video`, `startRaw`, `getRaw`, `stream`, `get_usb_config`, `set_usb_config` are not
 *   supported here: D `not support yet`, false (as the firmware's weak defaults).
 */
import { LUA_TFUNCTION, LUA_TNUMBER, LUA_TTABLE } from '../runtime/core/engine/types';
import type { LuaState } from '../runtime/core/engine/types';
import type { Args, JsLuaValue } from '../runtime/core/vm/lua-value';
import { deviceMedia, DEFAULT_CAMERA_INIT_MS } from './shared/media-hub';
import { getZbuff, ZBUFF_TYPE, type ZbuffState } from './shared/zbuff';
import type { Vm } from '../runtime/core/vm/vm';
import { FaultError } from '../runtime/core/faults';

export const CAMERA_DVP = 0;
export const CAMERA_USB = 0x20;
const MAX_DEVICE_COUNT = 2;

export const CAMERA_CONSTANTS = {
  DVP: CAMERA_DVP,
  USB: CAMERA_USB,
  AUTO: 0,
  SCAN: 1,
  ROTATE_0: 0,
  ROTATE_90: 1,
  ROTATE_180: 2,
  ROTATE_270: 3,
  CONF_H264_QP_INIT: 0x201,
  CONF_H264_QP_I_MAX: 0x202,
  CONF_H264_QP_P_MAX: 0x203,
  CONF_H264_IMB_BITS: 0x204,
  CONF_H264_PMB_BITS: 0x205,
  CONF_H264_PFRAME_NUMS: 0x206,
  CONF_H264_APPLY: 0x207,
  CONF_PREVIEW_ENABLE: 0x211,
  CONF_PREVIEW_ROTATE: 0x212,
  CONF_UVC_FPS: 0x220,
  CONF_LOG_LEVEL: 0x230,
  CONF_UVC_FORMAT: 0x300,
  CONF_UVC_RESOLUTION: 0x301,
  FORMAT_RAW: 0,
  FORMAT_MJPG: 1,
  FORMAT_H264: 2,
} as const;

/** The firmware's callback slot for a camera id. */
export function cameraSlot(id: number): number {
  return id >= CAMERA_USB ? MAX_DEVICE_COUNT + id - CAMERA_USB : id;
}

export function openCamera(vm: Vm): void {
  const { e } = vm;
  const media = deviceMedia(vm);
  // fault injection: camera unplug | plug (the flag lives on the device, like the hardware)
  vm.device.faults.register({ name: 'camera', usage: 'unplug | plug', description: 'pull the USB camera out / plug it back in', actions: { unplug: 'pull the USB camera out: the picture stops, camera.init fails until it is back', plug: 'plug the USB camera back in' } }, (args) => {
    if (args[0] === 'unplug') {
      vm.device.cameraUnplugged = true;
      if (!vm.isDead) media.unplug();
      return;
    }
    if (args[0] === 'plug') {
      vm.device.cameraUnplugged = false;
      if (!vm.isDead) media.plug();
      return;
    }
    throw new FaultError(`camera: expected unplug | plug, got '${args.join(' ')}'`);
  });
  const callbacks = new Map<number, number>();
  const rawCallbacks = new Map<number, number>();
  let lastPath = '/capture.jpg';
  let activeSlot = cameraSlot(CAMERA_USB);

  const fire = (slot: number, ev: JsLuaValue): void => {
    vm.post((L) => {
      const ref = callbacks.get(slot);
      if (ref !== undefined) vm.callRef(L, ref, [slot, ev]);
      return 0;
    });
  };

  media.on('camera-error', () => fire(activeSlot, false));

  const bool = (a: Args, v: boolean): number => {
    e.pushboolean(a.L, v);
    return 1;
  };

  const notSupported = (a: Args): number => {
    vm.log('D', 'camera', 'not support yet');
    return bool(a, false);
  };

  /** resume a task suspended in camera.init, from the main loop (as sys resumes tasks) */
  const resumeTask = (T: LuaState, coRef: number): void => {
    const R = e.REGISTRYINDEX;
    e.getglobal(T, 'coroutine');
    e.getfield(T, -1, 'status');
    e.remove(T, -2);
    e.rawgeti(T, R, coRef);
    e.call(T, 1, 1);
    const st = e.tostring(T, -1);
    e.pop(T, 1);
    if (st !== 'suspended') {
      e.unref(T, R, coRef);
      return;
    }
    let have = false;
    if (e.getglobal(T, 'sys') === LUA_TTABLE) {
      e.getfield(T, -1, 'coresume');
      e.remove(T, -2);
      have = e.type(T, -1) === LUA_TFUNCTION;
      if (!have) e.pop(T, 1);
    } else e.pop(T, 1);
    if (!have) {
      e.getglobal(T, 'coroutine');
      e.getfield(T, -1, 'resume');
      e.remove(T, -2);
    }
    e.rawgeti(T, R, coRef);
    e.unref(T, R, coRef);
    e.call(T, 1, 0);
  };

  vm.defineModule(
    'camera',
    {
      init: (a) => {
        const L = a.L;
        if (a.type(1) === LUA_TNUMBER) return notSupported(a); // SPI camera form
        if (a.type(1) !== LUA_TTABLE) return bool(a, false);
        const id = a.fieldInteger(1, 'id', CAMERA_DVP);
        const width = a.fieldInteger(1, 'sensor_width', 0);
        const height = a.fieldInteger(1, 'sensor_height', 0);
        const usbPort = a.fieldInteger(1, 'usb_port', 0);
        const isAsync = a.fieldInteger(1, 'async', 0) !== 0;
        let r;
        if (id === CAMERA_USB) {
          vm.log('I', 'usb_driv', 'USB_DRV_USB_OPEN!');
          vm.log('W', 'uvc_stre', `uvc_camera_device_power_on, port:${usbPort}, device:0`);
        }
        if (id !== CAMERA_USB && id !== CAMERA_DVP) r = { ok: false as const, reason: `camera id ${id} is not supported (camera.USB or camera.DVP)` };
        else r = media.initCamera({ width, height });
        if (r.ok) activeSlot = cameraSlot(id);
        else vm.log('E', 'camera', `camera init failed: ${r.reason}`);

        const initMs = media.profile.initMs ?? DEFAULT_CAMERA_INIT_MS;
        const t0 = vm.clock.now();
        // The camera is opened in the background (a real USB device is probed for one frame);
        // the result reaches the script when init returns, after ≈ initMs or the probe, whichever
        // is later. A busy or absent device thus makes init return false, as on the device.
        let ok = r.ok;
        const whenReady = (fn: () => void): void => {
          const p = r.ok && r.opening ? r.opening : Promise.resolve(r);
          void p.then((o) => {
            if (!o.ok && ok) {
              ok = false;
              if (!vm.isDead) vm.log('E', 'camera', `camera init failed: ${o.reason}`);
            }
            const left = Math.max(0, initMs - (vm.clock.now() - t0));
            vm.clock.setTimer(left, () => {
              if (!vm.isDead) fn();
            });
          });
        };

        if (isAsync) {
          if (!r.ok) {
            vm.pushFailedFuture(L, [false]);
            return 1;
          }
          const topic = vm.pushFuture(L);
          whenReady(() => vm.resolveFuture(topic, [ok ? 0 : false]));
          return 1;
        }
        if (L === vm.T || !e.isyieldable(L)) {
          // main chunk (cannot wait): 0 at once; a later probe failure is logged as E and the
          // camera stays uninitialised (camera.start → false)
          if (r.ok) {
            e.pushinteger(L, 0);
            whenReady(() => undefined);
          } else e.pushboolean(L, false);
          return 1;
        }
        // in a task: suspend it until the camera is ready (≈ initMs)
        let done = false;
        e.pushthread(L);
        const coRef = e.ref(L, e.REGISTRYINDEX);
        whenReady(() => {
          done = true;
          vm.post((T) => {
            resumeTask(T, coRef);
            return 0;
          });
        });
        const k = (L2: LuaState): number => {
          if (!done) return e.yieldk(L2, 0, k);
          if (ok) e.pushinteger(L2, 0);
          else e.pushboolean(L2, false);
          return 1;
        };
        return e.yieldk(L, 0, k);
      },
      on: (a) => {
        const slot = cameraSlot(a.integer(1));
        const ev = a.string(2);
        const map = ev === 'scanned' ? callbacks : ev === 'usb_raw' ? rawCallbacks : undefined;
        if (!map) return 0;
        const old = map.get(slot);
        if (old !== undefined) {
          e.unref(a.L, e.REGISTRYINDEX, old);
          map.delete(slot);
        }
        if (a.type(3) === LUA_TFUNCTION) {
          e.pushvalue(a.L, 3);
          map.set(slot, e.ref(a.L, e.REGISTRYINDEX));
        }
        return 0;
      },
      config: (a) => {
        a.integer(1);
        const key = a.integer(2);
        const value = a.integer(3);
        e.pushinteger(a.L, media.configure(key, value));
        return 1;
      },
      start: (a) => {
        a.integer(1);
        return bool(a, media.startCamera());
      },
      stop: (a) => {
        a.integer(1);
        return bool(a, media.stopCamera());
      },
      close: (a) => {
        a.integer(1);
        return bool(a, media.closeCamera());
      },
      capture: (a) => {
        const slot = cameraSlot(a.integer(1));
        const quality = a.optInteger(3, 1);
        const x = a.optInteger(4, 0);
        const y = a.optInteger(5, 0);
        const w = a.optInteger(6, 0);
        const h = a.optInteger(7, 0);
        let path: string | undefined;
        let zb: ZbuffState | undefined;
        if (a.isNoneOrNil(2)) path = lastPath;
        else if (e.type(a.L, 2) === LUA_TNUMBER || e.isstring(a.L, 2)) path = a.string(2);
        else {
          const z = getZbuff(vm, a.L, 2);
          if (!z) return a.typeError(2, ZBUFF_TYPE);
          zb = z;
        }
        if (!media.isInited) {
          vm.log('E', 'camera', 'capture: camera not initialised (camera.init first)');
          return bool(a, false);
        }
        if (path !== undefined) {
          try {
            if (vm.vfs.resolve(path).readonly) throw new Error(`read-only file system: ${path}`);
          } catch (err) {
            vm.log('E', 'camera', `capture: cannot write ${path}: ${(err as Error).message}`);
            return bool(a, false);
          }
          lastPath = path;
        }
        const crop = w > 0 && h > 0 ? { x, y, w, h } : undefined;
        const target = path;
        media.capture(quality, { crop }).then(
          (jpeg) => {
            if (vm.isDead) return;
            if (zb) {
              zb.used = 0;
              zb.append(jpeg);
              vm.log('D', 'camera', `capture: ${jpeg.length} bytes into zbuff`);
              fire(slot, jpeg.length);
              return;
            }
            try {
              media.writeDeviceFile(target as string, jpeg);
            } catch (err) {
              vm.log('E', 'camera', `capture: cannot write ${target}: ${(err as Error).message}`);
              fire(slot, false);
              return;
            }
            vm.log('D', 'camera', `capture: ${jpeg.length} bytes saved to ${target}`);
            fire(slot, true);
          },
          (err: Error) => {
            if (vm.isDead) return;
            vm.log('E', 'camera', `capture failed: ${err.message}`);
            fire(slot, false);
          },
        );
        return bool(a, true);
      },
      preview: notSupported,
      video: notSupported,
      startRaw: notSupported,
      getRaw: notSupported,
      stream: notSupported,
      get_usb_config: notSupported,
      set_usb_config: notSupported,
      pwdn_pin: () => 0,
      reset_pin: () => 0,
    },
    CAMERA_CONSTANTS,
  );
}

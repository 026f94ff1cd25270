/**
 * `luatos run --inspect [PORT]`: the Debug Adapter Protocol on 127.0.0.1, one session per TCP
 * connection, built on `@vscode/debugadapter` (its DebugSession does the wire format). Every
 * request goes to the debugger core in the device thread through the DebugChannel
 * (runtime/host/debug/channel.ts); a client may `launch` or `attach`, both just attach to the
 * running device. The device's log goes to the client's debug console as `output` events.
 *
 * DAP threads are the device's Lua threads: 1 is the main thread (`main`: sys.run, timer
 * callbacks, subscribers), the others are sys tasks named after their functions.
 */
import * as net from 'node:net';
import { Breakpoint, ContinuedEvent, DebugSession, InitializedEvent, OutputEvent, Scope, Source, StackFrame, StoppedEvent, Thread, Variable } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { LogSink } from '../../core/log';
import type { StopEvent } from '../../core/debug/protocol';
import type { DebugChannel } from './channel';

const STOP_TEXT: Record<StopEvent['reason'], string> = {
  breakpoint: 'breakpoint',
  step: 'step',
  pause: 'pause',
  exception: 'exception',
  entry: 'entry',
};

class LuatosDebugSession extends DebugSession {
  private configured = false;
  private readonly offs: Array<() => void> = [];

  constructor(
    private readonly ch: DebugChannel,
    log: LogSink | null,
    private readonly onEnd: (s: LuatosDebugSession) => void,
  ) {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    const on = <A extends unknown[]>(ev: string, fn: (...a: A) => void) => {
      ch.on(ev, fn as (...a: unknown[]) => void);
      this.offs.push(() => ch.off(ev, fn as (...a: unknown[]) => void));
    };
    on('stopped', (s: StopEvent) => {
      if (this.configured) this.sendStopped(s);
    });
    on('continued', () => this.sendEvent(new ContinuedEvent(1, true)));
    on('output', (text: string) => this.sendEvent(new OutputEvent(text, 'console')));
    if (log) {
      const off = log.on((_r, text) => this.sendEvent(new OutputEvent(text.endsWith('\n') ? text : text + '\n', 'stdout')));
      this.offs.push(off);
    }
  }

  private sendStopped(s: StopEvent): void {
    const ev = new StoppedEvent(STOP_TEXT[s.reason], s.thread, s.text) as DebugProtocol.StoppedEvent;
    ev.body.allThreadsStopped = true;
    if (s.hit) ev.body.hitBreakpointIds = s.hit;
    this.sendEvent(ev);
  }

  /** Run a request against the device; a failure becomes the response's error message. */
  private async answer<R extends DebugProtocol.Response>(response: R, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
      this.sendResponse(response);
    } catch (e) {
      this.sendErrorResponse(response, { id: 1, format: (e as Error).message, showUser: false });
    }
  }

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsLogPoints: true,
      supportsEvaluateForHovers: true,
      supportsTerminateRequest: false,
      exceptionBreakpointFilters: [{ filter: 'uncaught', label: 'Uncaught Lua errors (a task or the main thread dies)', default: true }],
    };
    this.sendResponse(response);
    this.sendEvent(new InitializedEvent());
  }

  protected override launchRequest(response: DebugProtocol.LaunchResponse): void {
    this.sendResponse(response);
  }
  protected override attachRequest(response: DebugProtocol.AttachResponse): void {
    this.sendResponse(response);
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.configured = true;
    this.sendResponse(response);
    // stopped before this client came (--inspect-brk, or another client's stop)
    if (this.ch.stop) this.sendStopped(this.ch.stop);
  }

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    const p = args.source.path;
    void this.answer(response, async () => {
      if (!p) throw new Error('breakpoints need a file path');
      const list = (args.breakpoints ?? []).map((b) => ({ line: b.line, condition: b.condition, hitCondition: b.hitCondition, logMessage: b.logMessage }));
      const states = await this.ch.setBreakpoints(p, list);
      response.body = {
        breakpoints: states.map((s) => {
          const b = new Breakpoint(s.verified, s.line) as DebugProtocol.Breakpoint;
          b.id = s.id;
          if (s.message) b.message = s.message;
          return b;
        }),
      };
    });
  }

  protected override setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): void {
    void this.answer(response, () => this.ch.setExceptions(args.filters.includes('uncaught')));
  }

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    void this.answer(response, async () => {
      const list = await this.ch.threads();
      response.body = { threads: list.map((t) => new Thread(t.id, t.name)) };
    });
  }

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): void {
    void this.answer(response, async () => {
      const frames = await this.ch.stack(args.threadId);
      const start = args.startFrame ?? 0;
      const n = args.levels && args.levels > 0 ? args.levels : frames.length;
      response.body = {
        stackFrames: frames.slice(start, start + n).map((f) => {
          const src = f.path ? new Source(f.source, f.path) : undefined;
          const sf = new StackFrame(f.id, f.name, src, f.line > 0 ? f.line : 0) as DebugProtocol.StackFrame;
          if (!f.path) sf.presentationHint = 'subtle';
          return sf;
        }),
        totalFrames: frames.length,
      };
    });
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    void this.answer(response, async () => {
      const scopes = await this.ch.scopes(args.frameId);
      response.body = { scopes: scopes.map((s) => new Scope(s.name, s.ref, s.expensive)) };
    });
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    void this.answer(response, async () => {
      const vars = await this.ch.variables(args.variablesReference);
      response.body = {
        variables: vars.map((v) => {
          const x = new Variable(v.name, v.value, v.ref) as DebugProtocol.Variable;
          x.type = v.type;
          return x;
        }),
      };
    });
  }

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    void this.answer(response, async () => {
      const r = await this.ch.evaluate(args.expression, args.frameId);
      response.body = { result: r.value, type: r.type, variablesReference: r.ref };
    });
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    response.body = { allThreadsContinued: true };
    void this.answer(response, () => this.ch.continue());
  }
  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    void this.answer(response, () => this.ch.next(args.threadId));
  }
  protected override stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): void {
    void this.answer(response, () => this.ch.stepIn(args.threadId));
  }
  protected override stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): void {
    void this.answer(response, () => this.ch.stepOut(args.threadId));
  }
  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    void this.answer(response, () => this.ch.pause());
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    this.end();
    this.sendResponse(response);
  }

  /** The client left (disconnect request or a closed socket). */
  end(): void {
    for (const off of this.offs.splice(0)) off();
    this.onEnd(this);
  }
}

export interface DapServer {
  port: number;
  close(): Promise<void>;
}

/** Serve DAP on 127.0.0.1:port (0: an ephemeral port). */
export function startDapServer(ch: DebugChannel, opts: { port: number; log?: LogSink | null }): Promise<DapServer> {
  const sessions = new Set<LuatosDebugSession>();
  const sockets = new Set<net.Socket>();
  const ended = (s: LuatosDebugSession) => {
    if (!sessions.delete(s)) return;
    // the last client gone: the device must not stay stopped, nor stop again for nobody
    if (sessions.size === 0) void ch.detach().catch(() => undefined);
  };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const s = new LuatosDebugSession(ch, opts.log ?? null, ended);
    sessions.add(s);
    s.setRunAsServer(true);
    s.start(socket, socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      sockets.delete(socket);
      s.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => {
      server.off('error', reject);
      const addr = server.address() as net.AddressInfo;
      resolve({
        port: addr.port,
        close: () =>
          new Promise<void>((r) => {
            for (const sk of sockets) sk.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

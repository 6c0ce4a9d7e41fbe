import { connect, createServer, Server, Socket } from 'node:net';

export type CutMode = 'refuse' | 'blackhole';

/**
 * A TCP proxy in front of the real database server. `cut()` destroys every live connection,
 * then either refuses new ones (the listening socket is closed: ECONNREFUSED) or black-holes
 * them (accepted, never answered: only timeouts end them). `freeze()` is a partition without
 * resets: live connections stay open but nothing crosses, and new ones are black-holed.
 * `stallLive()` stalls the live connections the same way but admits new ones. `restore()`
 * forwards again (frozen connections resume where they stopped).
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<[Socket, Socket]>();
  private readonly server: Server = createServer((client) => this.accept(client));
  private mode: 'open' | CutMode | 'frozen' = 'open';
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    await this.listen(0);
    this.port = (this.server.address() as { port: number }).port;
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  private accept(client: Socket): void {
    this.track(client);
    if (this.mode !== 'open') {
      // Black hole: hold the connection without reading from it or answering.
      client.pause();
      return;
    }
    const upstream = connect(this.target.port, this.target.host);
    this.track(upstream);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const close = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close);
    upstream.on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  cut(mode: CutMode): void {
    this.mode = mode;
    if (mode === 'refuse') this.server.close();
    this.destroyAll();
  }

  freeze(): void {
    this.mode = 'frozen';
    this.stopForwarding();
  }

  /**
   * Connections that die silently (a NAT or conntrack flush, a failover behind a virtual IP):
   * the live ones pass nothing from now on and are never reset, while new ones work.
   */
  stallLive(): void {
    this.stopForwarding();
    this.pairs.clear(); // never forwarded again, not even by restore()
  }

  private stopForwarding(): void {
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /** Forwards again; does nothing when the proxy is not cut or frozen. */
  async restore(): Promise<void> {
    const mode = this.mode;
    if (mode === 'open') return;
    this.mode = 'open';
    for (const socket of this.sockets) {
      // Black-holed connections: the app's drivers gave up on them already.
      if (![...this.pairs].some((pair) => pair.includes(socket))) socket.destroy();
    }
    if (mode === 'frozen') {
      for (const [client, upstream] of this.pairs) {
        client.pipe(upstream);
        upstream.pipe(client);
      }
    }
    if (mode === 'refuse') await this.listen(this.port);
  }

  async stop(): Promise<void> {
    this.mode = 'blackhole';
    this.destroyAll();
    if (this.server.listening) await new Promise((resolve) => this.server.close(resolve));
  }
}

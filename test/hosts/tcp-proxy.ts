import { connect, createServer, Server, Socket } from 'node:net';

/**
 * A TCP proxy in this process in front of a database server (127.0.0.1 only), which a host app
 * connects through. `cut()` makes the database unreachable: every live connection is reset and new
 * ones are refused (ECONNREFUSED). `restore()` forwards again, on the same port.
 * (test/faults.e2e-spec.ts has the fuller version: black holes, partitions.)
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private readonly server: Server = createServer((client) => this.accept(client));
  private open = true;
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
    if (!this.open) return void client.destroy();
    const upstream = connect(this.target.port, this.target.host);
    this.track(upstream);
    const close = () => {
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

  /** The database becomes unreachable: connections reset, new ones refused. */
  async cut(): Promise<void> {
    this.open = false;
    const closed = new Promise((resolve) => this.server.close(resolve));
    this.destroyAll();
    await closed;
  }

  /** Reachable again, on the same port. */
  async restore(): Promise<void> {
    if (this.open) return;
    this.open = true;
    await this.listen(this.port);
  }

  async stop(): Promise<void> {
    this.open = false;
    this.destroyAll();
    if (this.server.listening) await new Promise((resolve) => this.server.close(resolve));
  }
}

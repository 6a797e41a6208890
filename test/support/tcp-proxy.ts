import net from 'node:net';

/**
 * A TCP proxy in front of a real server (here PostgreSQL) that tests can cut and restore, to simulate the
 * server going away and coming back while the code under test keeps working. Listens on an ephemeral port.
 *
 * - `cut()`: destroys every open connection (the client sees a reset mid-query, possibly mid-COPY) and
 *   refuses new ones until `restore()`. Like a server crash plus restart window.
 * - `blackhole()`: keeps accepting but forwards nothing, like a half-open link; only timeouts notice it.
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private mode: 'up' | 'cut' | 'blackhole' = 'up';
  private acceptedCount = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  /** Starts listening on 127.0.0.1:0; returns the port. */
  async start(): Promise<number> {
    const server = net.createServer((client) => this.onClient(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return this.port;
  }

  get port(): number {
    const addr = this.server?.address();
    if (!addr || typeof addr === 'string') throw new Error('TcpProxy not started');
    return addr.port;
  }

  /** Connections accepted and forwarded so far. */
  get accepted(): number {
    return this.acceptedCount;
  }

  cut(): void {
    this.mode = 'cut';
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  blackhole(): void {
    this.mode = 'blackhole';
  }

  restore(): void {
    this.mode = 'up';
  }

  async stop(): Promise<void> {
    this.cut();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private onClient(client: net.Socket): void {
    client.on('error', () => undefined);
    if (this.mode === 'cut') {
      client.destroy();
      return;
    }
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    if (this.mode === 'blackhole') return;
    this.acceptedCount += 1;
    const upstream = net.connect(this.target);
    this.sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

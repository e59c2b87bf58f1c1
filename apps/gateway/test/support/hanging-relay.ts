import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A TCP relay to a server that can be made to hang, as a server does that takes connections and
 * never answers: while hanging, new connections are held open in silence, and they stay so after.
 */
export class HangingRelay {
  hanging = false;
  /** Connections still to be held in silence, though not hanging: the next ones forwarded after them. */
  hangNext = 0;
  private readonly sockets = new Set<Socket>();
  private readonly server = createServer((client) => this.take(client));

  constructor(private readonly target: { host: string; port: number }) {}

  /** Listens on loopback; answers the relay's URL. */
  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private take(client: Socket): void {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    if (this.hanging) return;
    if (this.hangNext > 0) return void (this.hangNext -= 1);
    const upstream = connect(this.target.port, this.target.host);
    this.sockets.add(upstream);
    upstream.on('close', () => this.sockets.delete(upstream));
    client.pipe(upstream).pipe(client);
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }
}

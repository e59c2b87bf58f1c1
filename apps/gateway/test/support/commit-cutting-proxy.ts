import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A TCP proxy in front of PostgreSQL that, once armed, lets the server commit the next transaction
 * whose statements match `pattern` and then cuts that connection before the answer to its `commit`
 * reaches the client: what a crash or a network cut at that moment does. It may then cut every
 * other connection and refuse new ones for a while, as a server that is down does.
 */
export class CommitCuttingProxy {
  private armed: RegExp | undefined;
  private refuseAfterCutMs = 0;
  private refusingUntil = 0;
  private readonly open = new Set<Socket>();
  private readonly server = createServer((client) => this.forward(client));
  cuts = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  arm(pattern: RegExp, { refuseAfterCutMs = 0 } = {}): void {
    this.armed = pattern;
    this.refuseAfterCutMs = refuseAfterCutMs;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private forward(client: Socket): void {
    if (Date.now() < this.refusingUntil) return void client.destroy();
    const upstream = connect(this.target.port, this.target.host);
    this.open.add(client);
    client.on('close', () => this.open.delete(client));
    let matched = false;
    let cutAtAnswer = false;
    client.on('data', (chunk) => {
      const text = chunk.toString('latin1');
      if (this.armed?.test(text)) matched = true;
      if (matched && /\bcommit\b/i.test(text)) {
        this.armed = undefined;
        matched = false;
        cutAtAnswer = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!cutAtAnswer) return void client.write(chunk);
      this.cuts += 1;
      this.refusingUntil = Date.now() + this.refuseAfterCutMs;
      if (this.refuseAfterCutMs > 0) for (const other of this.open) other.destroy();
      client.destroy();
      upstream.destroy();
    });
    for (const [socket, other] of [[client, upstream], [upstream, client]] as const) {
      socket.on('error', () => other.destroy());
      socket.on('close', () => other.destroy());
    }
  }
}

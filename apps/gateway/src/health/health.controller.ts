import { Controller, Get, HttpStatus, Inject, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { DATABASE, MEDIA_PLANE } from '../gateway.tokens.js';
import type { OpenDatabase } from '../persistence/database.js';
import type { MediaPlane } from '../recordings/recording-observer.js';
import { prometheusText } from './prometheus.js';

/** How long readiness waits for the database: a probe must hear "no" rather than nothing. */
export const READY_TIMEOUT_MS = 2000;

@Controller('health')
export class HealthController {
  constructor(
    @Inject(DATABASE) private readonly database: OpenDatabase,
    @Inject(MEDIA_PLANE) private readonly media: MediaPlane,
  ) {}

  /** Figures of the live recorder and the process, as JSON. `?reset=tick_lag` starts a fresh tick-lag sample. */
  @Get('metrics')
  async metrics(@Query('reset') reset?: string) {
    if (reset === 'tick_lag') this.media.resetTickLag();
    const memory = process.memoryUsage();
    return { pid: process.pid, recorder: await this.media.stats(), memory: { rss: memory.rss, heap_used: memory.heapUsed, external: memory.external, array_buffers: memory.arrayBuffers } };
  }

  /** The same figures in Prometheus's text format, at `/health/metrics/prometheus`. */
  @Get('metrics/prometheus')
  async prometheus(@Res({ passthrough: true }) response: Response) {
    response.setHeader('Content-Type', 'text/plain; version=0.0.4; charset=utf-8');
    return prometheusText(await this.media.stats(), process.memoryUsage());
  }

  /** The process is up and serving HTTP. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** The database answers, within 2 s, so requests can be served. */
  @Get('ready')
  async ready(@Res({ passthrough: true }) response: Response) {
    let timer: NodeJS.Timeout | undefined;
    const silence = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.database.ping(), silence]);
      return { status: 'ok', database: 'ok' };
    } catch (error) {
      response.status(HttpStatus.SERVICE_UNAVAILABLE);
      return { status: 'unavailable', database: String(error) };
    } finally {
      clearTimeout(timer);
    }
  }
}

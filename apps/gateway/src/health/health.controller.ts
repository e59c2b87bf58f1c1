import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { DATABASE } from '../gateway.tokens.js';
import type { OpenDatabase } from '../persistence/database.js';

@Controller('health')
export class HealthController {
  constructor(@Inject(DATABASE) private readonly database: OpenDatabase) {}

  /** The process is up and serving HTTP. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** The database answers, so requests can be served. */
  @Get('ready')
  async ready(@Res({ passthrough: true }) response: Response) {
    try {
      await this.database.ping();
      return { status: 'ok', database: 'ok' };
    } catch (error) {
      response.status(HttpStatus.SERVICE_UNAVAILABLE);
      return { status: 'unavailable', database: String(error) };
    }
  }
}

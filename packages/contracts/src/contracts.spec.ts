import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderOpenApiDocument } from './openapi/document.js';
import {
  AddParticipantBodySchema,
  FilterTimeSchema,
  MemberSelectorSchema,
  MpcIdSchema,
  MpcRecordingCallbackSchema,
  StartMpcRecordingBodySchema,
  UpdateParticipantBodySchema,
  operations,
} from './index.js';

describe('openapi.json', () => {
  it('is up to date with the contracts (run `pnpm generate`)', () => {
    const committed = readFileSync(new URL('../openapi.json', import.meta.url), 'utf8');
    expect(committed).toBe(renderOpenApiDocument());
  });

  it('renders the same bytes every time', () => {
    expect(renderOpenApiDocument()).toBe(renderOpenApiDocument());
  });

  it('documents every operation under its id, with the recording callbacks', () => {
    const document = JSON.parse(renderOpenApiDocument());
    const ids = Object.values(document.paths).flatMap((item) =>
      Object.values(item as Record<string, { operationId: string }>).map((op) => op.operationId),
    );
    expect(ids.sort()).toEqual(Object.keys(operations).sort());
    const start = document.paths['/v1/Account/{auth_id}/MultiPartyCall/{mpc_id}/Record/'].post;
    expect(Object.keys(start.callbacks.recordingEvent)).toEqual(['{$request.body#/recording_callback_url}']);
  });
});

describe('request examples', () => {
  it.each(Object.entries(operations).filter(([, operation]) => 'body' in operation && operation.body))(
    '%s: its body has an example, which Swagger UI sends from "Try it out", and it is a valid body',
    (_id, operation) => {
      const body = (operation as { body: { meta(): { example?: unknown } | undefined; safeParse(value: unknown): { success: boolean } } }).body;
      const example = body.meta()?.example;
      expect(example).toBeDefined();
      expect(body.safeParse(example).success).toBe(true);
    },
  );
});

describe('start recording body', () => {
  it('fills Plivo defaults', () => {
    expect(StartMpcRecordingBodySchema.parse({})).toEqual({ file_format: 'mp3', recording_callback_method: 'POST' });
  });

  it('accepts enum values in any case and ignores unknown keys', () => {
    const body = StartMpcRecordingBodySchema.parse({ file_format: 'WAV', recording_callback_method: 'get', transcript: true });
    expect(body).toEqual({ file_format: 'wav', recording_callback_method: 'GET' });
  });

  it.each([
    [{ file_format: 'ogg' }, 'file_format'],
    [{ recording_callback_method: 'PUT' }, 'recording_callback_method'],
    [{ recording_callback_url: 'not a url' }, 'recording_callback_url'],
    [{ recording_callback_url: 'ftp://example.com/x' }, 'recording_callback_url'],
  ])('refuses %j', (input, field) => {
    const result = StartMpcRecordingBodySchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual([field]);
  });
});

describe('wire spellings', () => {
  it('reads booleans and numbers as the SDKs send them', () => {
    const body = AddParticipantBodySchema.parse({
      role: 'agent', from: '+1', to: '+2', mute: 'True', hold: true, coach_mode: 'false', max_duration: '600', ring_timeout: 45,
    });
    expect(body).toMatchObject({ role: 'Agent', mute: true, hold: true, coach_mode: false, max_duration: 600 });
  });

  it('requires from and to, or call_uuid alone', () => {
    expect(AddParticipantBodySchema.safeParse({ role: 'Agent' }).success).toBe(false);
    expect(AddParticipantBodySchema.safeParse({ role: 'Agent', call_uuid: 'abc', from: '1', to: '2' }).success).toBe(false);
    expect(AddParticipantBodySchema.safeParse({ role: 'Agent', call_uuid: 'abc' }).success).toBe(true);
  });

  it.each(['2026-01-05 09:20', '2024-02-29 23:59:59.123456', '0001-01-01 00:00'])('takes the time filter %s', (time) => {
    expect(FilterTimeSchema.safeParse(time).success).toBe(true);
  });

  // Shaped right, yet no moment: a date parser would roll 2021-02-29 over to March 1.
  it.each(['2021-02-29 10:00', '2020-13-45 99:99', '2020-01-01 24:00', '2020-01-01 00:00:60', '2026-01-05T09:20'])('refuses the time filter %s', (time) => {
    expect(FilterTimeSchema.safeParse(time).success).toBe(false);
  });

  it('requires one of mute, hold or coach_mode to update', () => {
    expect(UpdateParticipantBodySchema.safeParse({}).success).toBe(false);
    expect(UpdateParticipantBodySchema.parse({ mute: 'true' })).toEqual({ mute: true });
  });
});

describe('identifiers', () => {
  it('parses name_ and uuid_ MPC ids', () => {
    expect(MpcIdSchema.parse('name_my mpc')).toEqual({ friendlyName: 'my mpc' });
    expect(MpcIdSchema.parse('uuid_8742D531-292A-4bd6-9c1e-0123456789ab')).toEqual({ uuid: '8742d531-292a-4bd6-9c1e-0123456789ab' });
  });

  // A uuid_ that is no UUID names no MPC; Postgres would refuse it as a uuid, so it is refused here.
  it.each(['name_', 'name_a/b', 'mpc_x', 'uuid_not-hex!', 'uuid_abc', 'uuid_8742d531-292a'])('refuses %s', (raw) => {
    expect(MpcIdSchema.safeParse(raw).success).toBe(false);
  });

  it('reads member selectors', () => {
    expect(MemberSelectorSchema.parse('ALL')).toBe('all');
    expect(MemberSelectorSchema.parse('1,22')).toEqual(['1', '22']);
    expect(MemberSelectorSchema.safeParse('1,x').success).toBe(false);
  });
});

describe('recording callback payload', () => {
  it('holds exactly the twelve parameters of the seed', () => {
    expect(Object.keys(MpcRecordingCallbackSchema.shape).sort()).toEqual(
      [
        'EventName', 'EventTimestamp', 'MPCName', 'MPCUUID', 'RecordingDuration', 'RecordingEndTime', 'RecordingFormat',
        'RecordingResourceURL', 'RecordingStartTime', 'RecordingURL', 'RecordingUUID', 'SequenceNumber',
      ].sort(),
    );
  });
});

import { Controller, Inject, Req } from '@nestjs/common';
import type { OperationInput } from '@mpc/contracts';
import type { Request } from 'express';
import { Caller } from '../common/caller.js';
import { ContractRoute, Input } from '../common/contract-route.js';
import { pageLinks } from '../common/paging.js';
import type { AccountRow } from '../persistence/schema.js';
import { CallsService } from './calls.service.js';

@Controller()
export class CallsController {
  constructor(@Inject(CallsService) private readonly calls: CallsService) {}

  @ContractRoute('addParticipant')
  addParticipant(@Caller() account: AccountRow, @Input() { params, body }: OperationInput<'addParticipant'>) {
    return this.calls.addParticipant(account, params.mpc_id, body);
  }

  @ContractRoute('activateMpc')
  async activateMpc(@Caller() account: AccountRow, @Input() { params }: OperationInput<'activateMpc'>) {
    await this.calls.activate(account, params.mpc_id);
  }

  @ContractRoute('endMpc')
  async endMpc(@Caller() account: AccountRow, @Input() { params }: OperationInput<'endMpc'>) {
    await this.calls.end(account, params.mpc_id);
  }

  @ContractRoute('getMpc')
  getMpc(@Caller() account: AccountRow, @Input() { params }: OperationInput<'getMpc'>) {
    return this.calls.get(account, params.mpc_id);
  }

  @ContractRoute('listMpcs')
  async listMpcs(@Caller() account: AccountRow, @Input() { query }: OperationInput<'listMpcs'>, @Req() request: Request) {
    const { rows, total } = await this.calls.list(account, query);
    const page = { limit: query.limit, offset: query.offset, total };
    return { meta: { count: total, limit: query.limit, offset: query.offset, ...pageLinks(request.path, request.query, page) }, objects: rows };
  }

  @ContractRoute('listParticipants')
  async listParticipants(@Caller() account: AccountRow, @Input() { params, query }: OperationInput<'listParticipants'>, @Req() request: Request) {
    // An MPC's participants are few (at most max_participants at a time): paged here, not in the database.
    const all = await this.calls.listParticipants(account, params.mpc_id, query.call_uuid);
    const page = { limit: query.limit, offset: query.offset, total: all.length };
    return {
      meta: { count: all.length, limit: query.limit, offset: query.offset, ...pageLinks(request.path, request.query, page) },
      objects: all.slice(query.offset, query.offset + query.limit),
    };
  }

  @ContractRoute('getParticipant')
  getParticipant(@Caller() account: AccountRow, @Input() { params }: OperationInput<'getParticipant'>) {
    return this.calls.getParticipant(account, params.mpc_id, params.member_id);
  }

  @ContractRoute('updateParticipant')
  updateParticipant(@Caller() account: AccountRow, @Input() { params, body }: OperationInput<'updateParticipant'>) {
    return this.calls.updateParticipants(account, params.mpc_id, params.member_id, body);
  }

  @ContractRoute('kickParticipant')
  async kickParticipant(@Caller() account: AccountRow, @Input() { params }: OperationInput<'kickParticipant'>) {
    await this.calls.kick(account, params.mpc_id, params.member_id);
  }
}

import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { Repository } from 'typeorm';
import { CreateLostReasonDto, ListLostReasonsDto, UpdateLostReasonDto } from './dto';
import { LostReason } from './lost-reason.entity';

const toResponse = ({ id, created_at, updated_at, lost_reason }: LostReason) => ({ id, created_at, updated_at, lost_reason });

/** What `nest g resource` grows into: the repository's save / findOne / findAndCount / delete. */
@Injectable()
export class LostReasonService {
  constructor(@InjectRepository(LostReason) private readonly repository: Repository<LostReason>) {}

  async create(dto: CreateLostReasonDto) {
    const now = new Date().toISOString();
    const entity = this.repository.create({
      id: 'opportunity-lost-reason_' + randomBytes(16).toString('hex'),
      created_at: now,
      updated_at: now,
      lost_reason: dto.lost_reason ?? null,
    });
    return toResponse(await this.repository.save(entity));
  }

  async findAll({ limit = 20, offset = 0 }: ListLostReasonsDto) {
    const [rows, total] = await this.repository.findAndCount({ order: { seq: 'DESC' }, take: limit, skip: offset });
    return { data: rows.map(toResponse), has_more: offset + rows.length < total, total };
  }

  async findOne(id: string) {
    const entity = await this.repository.findOne({ where: { id } });
    if (!entity) throw new NotFoundException(`No such opportunity-lost-reason: '${id}'`);
    return entity;
  }

  async update(id: string, dto: UpdateLostReasonDto) {
    const entity = await this.findOne(id);
    Object.assign(entity, dto, { updated_at: new Date().toISOString() });
    return toResponse(await this.repository.save(entity));
  }

  async remove(id: string) {
    const { affected } = await this.repository.delete({ id });
    if (!affected) throw new NotFoundException(`No such opportunity-lost-reason: '${id}'`);
    return { id, deleted: true };
  }
}

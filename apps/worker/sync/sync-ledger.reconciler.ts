import { Injectable } from '@nestjs/common';
import { FairLedgerReconciler } from '../../../libs/queue/fair-ledger-reconciler.js';
import { SyncProducer } from '../../../libs/queue/sync-producer.js';

/** The scan and twin queues' ledgers, recounted at start and every minute (docs/sync.md "Fair shares"). */
@Injectable()
export class SyncLedgerReconciler extends FairLedgerReconciler {
  constructor(producer: SyncProducer) {
    super([producer.scanLedger, producer.twinLedger]);
  }
}
